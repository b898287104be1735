# A CPU training agent (the libtorch CPU build comes with the agent's packages).
# Build from the repository root: docker build -f docker/agent.Dockerfile -t portal-agent .
# Several portal instances: PORTAL_AGENT_Agent__PortalUrl=http://portal-a:8080,http://portal-b:8080 (it moves to
# the next when one goes away, keeping its outbox in /data).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish agents/Portal.Agent/Portal.Agent.csproj -c Release -r linux-x64 --self-contained true -o /agent

FROM mcr.microsoft.com/dotnet/runtime-deps:10.0
COPY --from=build /agent /agent
ENV PORTAL_AGENT_Agent__DataDirectory=/data \
    PORTAL_AGENT_Agent__Device=cpu
VOLUME /data
ENTRYPOINT ["/agent/Portal.Agent"]
