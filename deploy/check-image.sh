#!/usr/bin/env bash
# Checks the Dockerfile's runtime stage on a machine without a Docker engine or registry access
# (not part of CI). It builds the root filesystem distroless/cc-debian12 is made of from Debian
# bookworm's own packages, adds the release binary and the Dockerfile's /data layout, reports the
# size, then starts `chernomorsk serve` in it with the image's environment, as the non-root user
# 65532, in a network namespace of its own, and runs the image's HEALTHCHECK command until the
# server answers.
#
#   deploy/check-image.sh [BINARY]
#
# Without BINARY it builds one as the Dockerfile's build stage does, from a clean export of HEAD
# (`git archive`, like the build context), with CARGO_TARGET_DIR standing in for the cache mount.
# Needs root (dpkg-deb, unshare) and Debian's package lists (`apt-get update`).
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "run as root: the root filesystem is owned by root and 65532" >&2; exit 1; }
work="$(mktemp -d /tmp/chernomorsk-image.XXXXXX)"
trap 'rm -rf "$work"' EXIT

binary="${1:-}"
if [ -z "$binary" ]; then
  echo "--- building the binary as the build stage does (from a clean export of HEAD)"
  mkdir "$work/src"
  git archive HEAD | tar -x -C "$work/src"
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/chernomorsk/image-target}"
  (cd "$work/src" && cargo build --release --locked -p bot --bin chernomorsk)
  binary="$CARGO_TARGET_DIR/release/chernomorsk"
fi

echo "--- the runtime stage: distroless/cc-debian12's packages from Debian bookworm"
# distroless/cc-debian12 is these packages unpacked (no maintainer scripts, no dpkg database),
# a passwd with root and nonroot (65532), and the CA bundle.
packages=(base-files netbase tzdata ca-certificates libc6 libssl3 gcc-12-base libgcc-s1 libgomp1 libstdc++6)
mkdir "$work/debs" "$work/root"
(cd "$work/debs" && apt-get download -qq "${packages[@]}" 2>/dev/null)
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
root="$work/root"
rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/info" "$root/usr/share/lintian"
mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$root/home/nonroot"
cat "$root"/usr/share/ca-certificates/*/*.crt > "$root/etc/ssl/certs/ca-certificates.crt"
chmod 1777 "$root/tmp"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$root/etc/group"
chown 65532:65532 "$root/home/nonroot"
base_size=$(du -sb "$root" | cut -f1)

# The Dockerfile: COPY the binary; COPY --chown=65532:65532 the /data layout.
install -D -m 755 "$binary" "$root/usr/local/bin/chernomorsk"
mkdir -p "$root/data/photos" "$root/data/backups"
chown -R 65532:65532 "$root/data"
size=$(du -sb "$root" | cut -f1)
gzipped=$(tar -C "$root" -c . | gzip -6 | wc -c)
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
echo "base $(mb "$base_size") + binary $(mb "$(stat -c %s "$binary")") = image $(mb "$size") ($(mb "$gzipped") gzipped)"

echo "--- starting it as the image does: ENTRYPOINT chernomorsk, CMD serve, USER 65532, on /data"
# The Dockerfile's ENV and nothing from this machine's environment; USER, WORKDIR, ENTRYPOINT.
in_image=(env -i 'DATABASE_URL=sqlite:///data/chernomorsk.db?mode=rwc' PHOTO_DIR=/data/photos
  PANEL_ADDR=0.0.0.0:8080 RUST_LOG=info BOOTSTRAP_ADMIN_PASSWORD=check-image-password
  unshare --root="$root" --wd=/data --setuid 65532 --setgid 65532 /usr/local/bin/chernomorsk)
# A network namespace of its own: port 8080 as in the image, whatever else this machine runs.
unshare --net bash -euo pipefail -c '
  in_image=('"${in_image[*]@Q}"')
  ip link set lo up
  if "${in_image[@]}" healthcheck >/dev/null 2>&1; then echo "healthcheck passed with no server" >&2; exit 1; fi
  echo "healthcheck before the start: fails, as it should"
  "${in_image[@]}" serve > "'"$work"'/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 120); do
    if "${in_image[@]}" healthcheck >/dev/null 2>&1; then break; fi
    sleep 0.5
  done
  "${in_image[@]}" healthcheck
  echo "healthcheck: passes (exit 0) against /healthz"
  kill -TERM "$server"
  code=0
  wait "$server" || code=$?
  echo "stopped on SIGTERM with exit code $code"
  [ "$code" = 0 ]
' || { echo "--- server log"; cat "$work/serve.log"; exit 1; }
grep -q "database ready" "$work/serve.log" && grep -q "stopped" "$work/serve.log"

echo "--- what the non-root server wrote on /data"
ls -ln "$root/data"
owners=$(find "$root/data" -printf '%U:%G\n' | sort -u)
[ "$owners" = "65532:65532" ] || { echo "files on /data not owned by 65532: $owners" >&2; exit 1; }
echo "all owned by 65532:65532"
echo "image check passed"
