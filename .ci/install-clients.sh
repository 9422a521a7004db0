#!/usr/bin/env bash
# Install the Azure clients the emulator must answer unmodified (issue 18):
# Microsoft's Python SDK (azure-identity and the management packages) and
# Azure CLI, each pinned, each in its own venv under target/clients/, for
# tests/it/clients.rs. Idempotent: a venv whose pins match is kept.
# Usage: install-clients.sh [sdk|az]... (default: both). Last lines of
# output: each installed venv's python executable, in that order.
#
# Overrides: ACTLOG_CMK_CLIENTS_DIR (default <repo>/target/clients).
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "${script_dir}/.." && pwd)"
prefix="${ACTLOG_CMK_CLIENTS_DIR:-${repo_root}/target/clients}"

# One pin list per venv, kept in tests/clients/ so the test builds the same ones.
install_venv() {
    local name="$1" requirements="$2" venv="${prefix}/$1"
    local stamp="${venv}/.requirements"
    if [ -x "${venv}/bin/python" ] && cmp -s "${requirements}" "${stamp}"; then
        echo "install-clients: ${name} already installed in ${venv}" >&2
        return 0
    fi
    local started=$SECONDS
    rm -rf "${venv}"
    python3 -m venv "${venv}"
    "${venv}/bin/python" -m pip install --quiet --disable-pip-version-check \
        --no-input -r "${requirements}" </dev/null >&2
    cp "${requirements}" "${stamp}"
    echo "install-clients: ${name} installed in $((SECONDS - started)) s" >&2
}

if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    echo "install-clients: python3 with venv is needed (apt-get install python3-venv)" >&2
    exit 1
fi
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(sdk az)
for name in "${names[@]}"; do
    case "${name}" in
        sdk | az) install_venv "${name}" "${repo_root}/tests/clients/${name}-requirements.txt" ;;
        *) echo "install-clients: unknown client '${name}' (sdk or az)" >&2; exit 2 ;;
    esac
done
for name in "${names[@]}"; do
    echo "${prefix}/${name}/bin/python"
done
