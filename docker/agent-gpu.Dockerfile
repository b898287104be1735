# A training agent for a GPU machine. It brings no libtorch of its own: it trains on the CUDA libtorch of the
# PyTorch installed in the base image (TorchSharp loads it through PORTAL_AGENT_LIBTORCH).
# Build from the repository root: docker build -f docker/agent-gpu.Dockerfile -t portal-agent-gpu .
# Run: docker run --gpus all -e PORTAL_AGENT_Agent__PortalUrl=https://portal:8080 \
#        -e PORTAL_AGENT_Agent__Token=<agent token> -e PORTAL_AGENT_Agent__Name=gpu-01 -v agent-data:/data portal-agent-gpu
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish agents/Portal.Agent/Portal.Agent.csproj -c Release -r linux-x64 --self-contained true \
      -p:TorchBackend=none -o /agent

FROM pytorch/pytorch:2.11.0-cuda13.0-cudnn9-runtime
COPY --from=build /agent /agent
ENV PORTAL_AGENT_Agent__DataDirectory=/data \
    PORTAL_AGENT_Agent__Device=cuda
VOLUME /data
# Point the agent at this image's PyTorch libraries, then start it.
ENTRYPOINT ["/bin/sh", "-c", "export PORTAL_AGENT_LIBTORCH=$(python -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), \"lib\"))') && exec /agent/Portal.Agent"]
