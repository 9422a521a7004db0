"""Reads the emulator's estate through Microsoft's Python SDK, unmodified and
at each package's default api-version (tests/it/clients.rs runs it).

Sign-in is the documented recipe for a private authority: ClientSecretCredential
with authority = the emulator and disable_instance_discovery=True (else MSAL
asks login.microsoftonline.com whether the authority is known); the emulator's
CA comes from REQUESTS_CA_BUNDLE, which the test sets for this process only.
Prints one JSON object of what it read on stdout.
"""

import json
import os
import sys

from azure.core.rest import HttpRequest
from azure.identity import ClientSecretCredential
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.monitor import MonitorManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient
from azure.mgmt.storage import StorageManagementClient


def main():
    endpoint = os.environ["EMULATOR_ENDPOINT"]
    subscription = os.environ["EMULATOR_SUBSCRIPTION"]
    group = os.environ["EMULATOR_RESOURCE_GROUP"]
    credential = ClientSecretCredential(
        os.environ["AZURE_TENANT_ID"],
        os.environ["AZURE_CLIENT_ID"],
        os.environ["AZURE_CLIENT_SECRET"],
        authority=endpoint,
        disable_instance_discovery=True,
    )
    common = {
        "base_url": endpoint,
        "credential_scopes": ["https://management.azure.com/.default"],
    }
    out = {}

    subscriptions = SubscriptionClient(credential, **common)
    out["tenants"] = [t.tenant_id for t in subscriptions.tenants.list()]
    out["subscriptions"] = [s.subscription_id for s in subscriptions.subscriptions.list()]
    out["locations"] = [
        loc.name for loc in subscriptions.subscriptions.list_locations(subscription)
    ]

    resources = ResourceManagementClient(credential, subscription, **common)
    out["resource_groups"] = [g.name for g in resources.resource_groups.list()]
    out["resources"] = sorted(r.name for r in resources.resources.list())

    storage = StorageManagementClient(credential, subscription, **common)
    accounts = {}
    for account in storage.storage_accounts.list():
        read = storage.storage_accounts.get_properties(group, account.name)
        accounts[read.name] = read.encryption.key_source
    out["accounts"] = accounts

    keyvault = KeyVaultManagementClient(credential, subscription, **common)
    out["vaults_listed"] = sorted(v.name for v in keyvault.vaults.list())
    vault_name = os.environ["EMULATOR_VAULT"]
    vault = keyvault.vaults.get(group, vault_name)
    out["vault_purge_protection"] = vault.properties.enable_purge_protection
    out["keys"] = sorted(k.name for k in keyvault.keys.list(group, vault_name))

    msi = ManagedServiceIdentityClient(credential, subscription, **common)
    identity = msi.user_assigned_identities.get(group, os.environ["EMULATOR_IDENTITY"])
    out["identity_principal"] = identity.principal_id

    monitor = MonitorManagementClient(credential, subscription, **common)
    out["log_profiles"] = [p.storage_account_id for p in monitor.log_profiles.list()]
    # azure-mgmt-monitor 7 has no diagnostic-settings operations (and no
    # send_request); a management client's own pipeline reads them, at the
    # version the tool sends.
    request = HttpRequest(
        "GET",
        f"{endpoint}/subscriptions/{subscription}/providers/Microsoft.Insights/"
        "diagnosticSettings?api-version=2021-05-01-preview",
    )
    answer = resources.send_request(request)
    answer.raise_for_status()
    out["diagnostic_settings"] = [
        s["properties"]["storageAccountId"] for s in answer.json()["value"]
    ]

    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
