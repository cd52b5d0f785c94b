#!/usr/bin/env bash
# Issue 22's measurements on a lent GPU machine, in one call of the device tool (about 6 minutes, at most 10 with the install):
#
#   run(command="bash benchmarks/gpu_check.sh", carry=[".whl", ".before"], timeout_s=600)
#
# .before (ignored by git) holds the code before issue 22's work, to measure it in the same lease:
#   mkdir .before && git archive 0cdd488 vidcolor benchmarks samples | tar -x -C .before
#
# The machine has Python 3.12 with torch, OpenCV, NumPy, click and tqdm, and no network: what else
# vidcolor needs travels as wheels in .whl/ (ignored by git), fetched beforehand on this side with
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d .whl \
#     av==18.1.0 spandrel==0.4.2 spandrel_extra_arches==0.2.0 cloup==4.0.0 click==8.5.1 py-spy==0.4.3
#   pip wheel --no-deps timecode==1.5.1 -w .whl
# Everything it prints is also in $OUT (one log per step). A dry run on any machine, small and on
# the CPU: DEVICE=cpu QUICK=1 bash benchmarks/gpu_check.sh
set -uo pipefail
OUT=${OUT:-/tmp/vidcolor-gpu-check}
DEVICE=${DEVICE:-cuda}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
SITE=
if [ -d .whl ] && ! { python3 -c "import av, spandrel_extra_arches, cloup, timecode" 2>/dev/null && command -v py-spy >/dev/null; }; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        .whl/*.whl || exit 1
    SITE=/tmp/site
fi
export PYTHONPATH=${SITE:+$SITE:}$PWD PATH=${SITE:+$SITE/bin:}$PATH

if [ -n "${QUICK:-}" ]; then  # the dry run: every step, small
    BIG="--arch tiny --size 64 --width 320 --height 192 --frames 12 --memory-frames 0"
    CEIL="--arch tiny --size 64 --frames 12 --sizes 160x96,320x192"
    SMOOTH="--arch tiny --size 64 --width 320 --height 192 --frames 8"
    MALLOC="--arch tiny --size 64 --width 320 --height 192 --frames 24"
    PRECISION=fp32 TESTS="tests/test_gpu.py tests/test_lab_torch.py::test_planes_made_in_torch_are_what_swscale_makes"
else
    # The film: modelscope's architecture (ConvNeXt-L) at 512 on 1080p, bf16.
    BIG="--arch large --size 512 --width 1920 --height 1080 --frames 160 --memory-frames 0"
    # 640x360 beside 1080p: the ceiling where the pixels cost little, the fixed cost of a frame (Python,
    # kernel launches, waits) that more cores do not share out.
    CEIL="--arch large --size 512 --frames 160 --sizes 640x360,1920x1080"
    SMOOTH="--frames 24 --size 512 --width 1920 --height 1080"
    MALLOC="--arch large --size 512 --width 1920 --height 1080 --frames 384"
    PRECISION=bf16 TESTS="tests/test_gpu.py"
fi

step() {  # step NAME SECONDS COMMAND...: its output to the screen and to $OUT/NAME.log
    local name=$1 limit=$2
    shift 2
    echo "=== $name ($(date -u +%T), at most ${limit}s): $*" | tee "$OUT/$name.log"
    timeout "$limit" "$@" 2>&1 | tee -a "$OUT/$name.log"
    echo "=== $name: exit ${PIPESTATUS[0]}" | tee -a "$OUT/$name.log"
}

step machine 30 bash -c "nvidia-smi --query-gpu=name,memory.total,driver_version,encoder.stats.sessionCount \
    --format=csv 2>&1; nproc; free -g | head -2; python3 -c 'import sys, torch, av, cv2; \
    print(sys.version.split()[0], torch.__version__, torch.cuda.is_available(), av.__version__, cv2.__version__); \
    from vidcolor.media import hardware; print({c: hardware.opens(c) for c in sorted(hardware.NVENC_CODECS)})'"
# The GPU paths' tests: batches, bf16, Lab and planes on the device, smoothing on the device against
# OpenCV's (within 0.5 ab), NVENC or its notice.
step tests 110 python3 -m pytest -q -p no:cacheprovider -o addopts="" $TESTS
# End to end against the network alone, smoothed and not, the web preset (NVENC where it opens);
# beside it the path before (OpenCV's Lab and blend on the CPU, NCHW).
step throughput 150 python3 benchmarks/throughput.py --device "$DEVICE" --precision $PRECISION $BIG \
    --repeat 1 --no-naive
# The pipeline with an instant stand-in for the network: what it sustains by itself (issue 22: at
# least 1.25 x the network alone), smoothed, not, and with a keyframe (the references' guiding on
# the CPU threads), each stage's milliseconds, and the encoders alone at 1080p (x264
# with 8 threads, and in 2 or 4 pieces at once, as segments joined by packet copy would be).
# Under py-spy (benchmarks/investigations/gil_share.py): how much of the wall time a thread holds the GIL, and where.
step ceiling 120 python3 benchmarks/investigations/gil_share.py --raw "$OUT/ceiling_gil.txt" -- python3 benchmarks/throughput.py --ceiling --device "$DEVICE" --precision $PRECISION $CEIL \
    --repeat 1 --encoders libx264:medium,libx264:faster,libx264:veryfast,libx264:veryfast@8,libx264:veryfast@8x2,\
libx264:veryfast@4x4,h264_nvenc:p5,h264_nvenc:p1
# The same film through the code before this work (x264 medium, DIS medium, OpenCV on the CPU),
# in the same lease: the before/after of issue 22.
if [ -d .before ]; then
    step before 80 env PYTHONPATH="${SITE:+$SITE:}$PWD/.before" python3 .before/benchmarks/throughput.py \
        --device "$DEVICE" --precision $PRECISION $BIG --repeat 1 --no-before
fi
# The smoother alone at 1080p: the flow judged in NumPy and on the GPU, DIS's share, the blends.
step smoothing 40 python3 benchmarks/smoothing_cost.py --device "$DEVICE" --precision $PRECISION \
    $SMOOTH --flow-presets fast --repeat 1
# Peak RSS and GPU memory of a whole run, flat or not over 384 frames, and the kernel's CPU time, under
# vidcolor's malloc policy (two arenas), the one before it (mmap from 1 MiB) and glibc's default.
step malloc 70 python3 benchmarks/investigations/malloc_policy.py --device "$DEVICE" --precision $PRECISION $MALLOC
echo "done $(date -u +%T); logs in $OUT"
