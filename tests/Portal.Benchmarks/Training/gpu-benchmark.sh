#!/usr/bin/env bash
# The training benchmark on a GPU machine that has PyTorch (CUDA) but no .NET. Bring a self-contained publish
# without libtorch, packed as a tar.xz:
#   dotnet publish tests/Portal.Benchmarks -c Release -r linux-x64 --self-contained -p:TorchBackend=none -o /tmp/pub
#   tar -C /tmp/pub -cJf tests/Portal.Benchmarks/bin/gpu/bundle.tar.xz .
# TorchSharp then trains on that PyTorch's own CUDA libtorch (torch/lib), loaded through the agent's --libtorch
# option; if that fails, through LD_LIBRARY_PATH. Results go to $OUT (default /tmp/bench-out).
set -u
BUNDLE=${1:-tests/Portal.Benchmarks/bin/gpu/bundle.tar.xz}
OUT=${OUT:-/tmp/bench-out}
BUNDLE=$(readlink -f "$BUNDLE")
mkdir -p "$OUT" /tmp/portal-bench
PY=${PY:-$(command -v python3)}
TORCH_LIB=${TORCH_LIB:-$("$PY" -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))')}
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  "$PY" -c 'import torch;print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))'
  echo "cores $(nproc)"; echo "torch lib $TORCH_LIB"
} > "$OUT/device.txt" 2>&1
cat "$OUT/device.txt"
tar -xJf "$BUNDLE" -C /tmp/portal-bench
cd /tmp/portal-bench
THREADS=$(nproc)
timeout 240 ./Portal.Benchmarks training --device cuda --libtorch "$TORCH_LIB" --python "$PY" --steps 300 --warmup 30 \
  --threads "$THREADS" --recipe-steps 600 --json "$OUT/cuda-libtorch-option.json" > "$OUT/cuda-libtorch-option.txt" 2>&1
rc=$?
echo "exit code $rc" >> "$OUT/cuda-libtorch-option.txt"; cat "$OUT/cuda-libtorch-option.txt"
if [ $rc -ne 0 ]; then
  echo "--libtorch path failed ($rc); trying LD_LIBRARY_PATH"
  LD_LIBRARY_PATH="$TORCH_LIB" timeout 200 ./Portal.Benchmarks training --device cuda --python "$PY" --steps 300 --warmup 30 \
    --threads "$THREADS" --json "$OUT/cuda-ld-library-path.json" > "$OUT/cuda-ld-library-path.txt" 2>&1
  cat "$OUT/cuda-ld-library-path.txt"
fi
