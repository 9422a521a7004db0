#!/usr/bin/env bash
# Drives the emulator with Azure CLI, unmodified, as docs/emulator.md
# documents it (tests/it/clients.rs runs this): sign in by the recipe, run the
# rule's audit commands, then remediate one storage account to a
# customer-managed key with ARM commands only.
#
# Needs: AZ (the az executable), AZURE_CONFIG_DIR (a private directory),
# REQUESTS_CA_BUNDLE (the emulator's CA), EMULATOR_ENDPOINT, AZURE_TENANT_ID,
# AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, SUB, GROUP, ACCOUNT, VAULT, IDENTITY.
# Prints each step on stderr; stdout carries only what the steps print.
set -euo pipefail
az() { "${AZ}" "$@" --only-show-errors; }
step() { echo "+ $*" >&2; }

# Sign-in: nothing leaves the machine (no telemetry, no update check, no
# instance discovery against login.microsoftonline.com).
export AZURE_CORE_COLLECT_TELEMETRY=false AZURE_CORE_NO_COLOR=true
step "az config set core.collect_telemetry=false core.instance_discovery=false"
az config set core.collect_telemetry=false core.instance_discovery=false \
    core.survey_message=false auto-upgrade.enable=false >/dev/null
step "az cloud register --name ActlogCmkEmulator --endpoint-resource-manager ${EMULATOR_ENDPOINT}"
az cloud register --name ActlogCmkEmulator --endpoint-resource-manager "${EMULATOR_ENDPOINT}/" >/dev/null
az cloud set --name ActlogCmkEmulator >/dev/null
step "az login --service-principal"
az login --service-principal --username "${AZURE_CLIENT_ID}" \
    --password "${AZURE_CLIENT_SECRET}" --tenant "${AZURE_TENANT_ID}" >/dev/null
az account set --subscription "${SUB}"
step "az account list-locations, az group list"
az account list-locations --query "[?name=='westeurope'].displayName" -o tsv
az group list --query "[].name" -o tsv

# The rule's audit commands.
step "az monitor diagnostic-settings subscription list"
az monitor diagnostic-settings subscription list --query "value[].storageAccountId" -o tsv
step "az monitor log-profiles list"
az monitor log-profiles list --query "[].storageAccountId" -o tsv
step "az storage account show --query encryption.keySource"
az storage account show -g "${GROUP}" -n "${ACCOUNT}" --query encryption.keySource -o tsv

# Remediation, ARM only: identity, vault with purge protection, access policy,
# the key through ARM (az keyvault key create is the data plane), the switch.
step "az identity create"
principal="$(az identity create -g "${GROUP}" -n "${IDENTITY}" --query principalId -o tsv)"
identity_id="$(az identity show -g "${GROUP}" -n "${IDENTITY}" --query id -o tsv)"
step "az keyvault create --enable-purge-protection true"
az keyvault create -g "${GROUP}" -n "${VAULT}" --location westeurope \
    --enable-purge-protection true --enable-rbac-authorization false --no-self-perms >/dev/null
step "az keyvault set-policy"
az keyvault set-policy -n "${VAULT}" --object-id "${principal}" \
    --key-permissions get wrapKey unwrapKey >/dev/null
step "az rest PUT the key"
az rest --method put \
    --url "${EMULATOR_ENDPOINT}/subscriptions/${SUB}/resourceGroups/${GROUP}/providers/Microsoft.KeyVault/vaults/${VAULT}/keys/cmk?api-version=2026-02-01" \
    --body '{"properties": {"kty": "RSA", "keySize": 3072}}' >/dev/null
vault_uri="$(az keyvault show -n "${VAULT}" --query properties.vaultUri -o tsv)"
# On an RBAC vault the grant is a role assignment instead; az resolves the role
# by name (RoleDefinitions_List with $filter=roleName eq '...') and, given the
# object id and type, asks Microsoft Graph nothing.
step "az role assignment create --role 'Key Vault Crypto Service Encryption User'"
az role assignment create --role "Key Vault Crypto Service Encryption User" \
    --assignee-object-id "${principal}" --assignee-principal-type ServicePrincipal \
    --scope "$(az keyvault show -n "${VAULT}" --query id -o tsv)" >/dev/null
step "az storage account update --encryption-key-source Microsoft.Keyvault"
# Grants take effect after the emulator's propagation delay, as in Azure: retry.
for attempt in 1 2 3 4 5 6 7 8 9 10; do
    if az storage account update -g "${GROUP}" -n "${ACCOUNT}" \
        --identity-type UserAssigned --user-identity-id "${identity_id}" \
        --encryption-key-source Microsoft.Keyvault --encryption-key-vault "${vault_uri}" \
        --encryption-key-name cmk --key-vault-user-identity-id "${identity_id}" >/dev/null; then
        break
    fi
    [ "${attempt}" -lt 10 ] || exit 1
    sleep 1
done
step "az storage account show --query encryption.keySource"
az storage account show -g "${GROUP}" -n "${ACCOUNT}" --query encryption.keySource -o tsv
