# The portal: Blazor Server app with its SQLite database in the /data volume.
# Build from the repository root: docker build -f docker/portal.Dockerfile -t portal .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
# Node builds the chart scripts (uPlot) that the web project copies into wwwroot/lib.
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN dotnet publish src/Portal.Web/Portal.Web.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
ENV ASPNETCORE_URLS=http://+:8080 \
    Portal__DataDirectory=/data
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["dotnet", "Portal.Web.dll"]
