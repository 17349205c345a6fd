#!/usr/bin/env bash
# Publishes samples/Chat as a Native AOT binary for the process tests (tests/Chat.ProcessTests run the same wire
# cases against it and against `dotnet Chat.dll`).
#
#   eval "$(bash tests/aot.sh)"     # prints: export SESSIONSOCKETS_SAMPLE_NATIVE='<dir>/Chat'
#
# Native AOT needs a C toolchain and zlib headers beside the SDK: installed with apt-get (as root) when missing.
# The ILCompiler packages come from NuGet with the publish. Everything the publish says goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "aot.sh: $*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v clang >/dev/null 2>&1 && ! command -v gcc >/dev/null 2>&1 || [ ! -f /usr/include/zlib.h ]; then
  log "installing the native toolchain (clang, zlib1g-dev)"
  as_root apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang zlib1g-dev >&2
fi

out="${SESSIONSOCKETS_AOT_OUT:-${TMPDIR:-/tmp}/sessionsockets-chat-aot-$(pwd -P | sha256sum | cut -c1-12)}"
rm -rf "$out"
started=$(date +%s)
dotnet publish samples/Chat -c Release -r linux-x64 -p:PublishAot=true -o "$out" -nologo -v quiet >&2
log "published $out/Chat in $(( $(date +%s) - started )) s ($(du -h "$out/Chat" | cut -f1))"
echo "export SESSIONSOCKETS_SAMPLE_NATIVE='$out/Chat'"
