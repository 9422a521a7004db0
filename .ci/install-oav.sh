#!/usr/bin/env bash
# Install Microsoft's OpenAPI validator (npm package `oav`) into target/oav
# under the repo root, for checking recorded emulator traffic against the
# Azure REST API specs (`oav validate-traffic`).
#
# Idempotent: does nothing when the pinned version is already installed.
# Non-interactive (CI=true, no stdin, root all fine).
# Last line of output: absolute path of the oav executable.
#
# Overrides: OAV_VERSION (default below), OAV_PREFIX (default <repo>/target/oav).
set -euo pipefail

OAV_VERSION="${OAV_VERSION:-4.0.3}"

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "${script_dir}/.." && pwd)"
prefix="${OAV_PREFIX:-${repo_root}/target/oav}"
oav_bin="${prefix}/node_modules/.bin/oav"

for tool in node npm; do
    if ! command -v "${tool}" >/dev/null 2>&1; then
        echo "install-oav: '${tool}' not found on PATH (oav ${OAV_VERSION} needs Node >= 20)" >&2
        exit 1
    fi
done

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "${node_major}" -lt 20 ]; then
    echo "install-oav: Node $(node --version) is too old; oav ${OAV_VERSION} needs Node >= 20" >&2
    exit 1
fi

installed_version() {
    local pj="${prefix}/node_modules/oav/package.json"
    [ -f "${pj}" ] || return 0
    node -p 'require(process.argv[1]).version' "${pj}" 2>/dev/null || true
}

if [ -x "${oav_bin}" ] && [ "$(installed_version)" = "${OAV_VERSION}" ]; then
    echo "install-oav: oav ${OAV_VERSION} already installed in ${prefix}" >&2
    echo "${oav_bin}"
    exit 0
fi

mkdir -p "${prefix}"
if [ ! -f "${prefix}/package.json" ]; then
    cat > "${prefix}/package.json" <<'JSON'
{
  "name": "actlog-cmk-oav",
  "version": "0.0.0",
  "private": true,
  "description": "Scratch install of oav for validating recorded emulator traffic"
}
JSON
fi

echo "install-oav: installing oav@${OAV_VERSION} into ${prefix}" >&2
(
    cd "${prefix}"
    CI=true npm install --no-audit --no-fund --no-update-notifier \
        --save-exact --loglevel=error \
        "oav@${OAV_VERSION}" </dev/null >&2
)

got="$(installed_version)"
if [ "${got}" != "${OAV_VERSION}" ] || [ ! -x "${oav_bin}" ]; then
    echo "install-oav: installation failed (found version '${got:-none}', expected ${OAV_VERSION})" >&2
    exit 1
fi

echo "${oav_bin}"
