"""An Azure subscription built for a test, read by the live Azure adapter through the real SDK
clients: Resource Manager in the local ArmFake (ARM's JSON wire shapes), blob data in Azurite.

A spec (tests/scenarios/azure/*.json) describes the subscription:
  accounts: {name: {group, allow_public (null: unset), public_network, default_action, ip_rules,
             versioning, cmk, logging, worm, shared_key (false: Shared Key access off),
             blob_endpoint (none unless given: the data plane is out of reach),
             data_plane ("azurite": its blobs are in Azurite, which `built` starts),
             containers: {name: {access: None|Blob|Container, immutability, legal_hold,
                                 stored_access_policies (Azurite only): [{id, permissions ("rl"),
                                 expires_in_days (absent or null: no expiry)}]}}}}
  nsgs: {name: {group, rules: [{name, priority, access, direction, protocol, source | sources,
         port | ports}], public_ips: [addresses of NICs that use it]}}
  network: {vnets: {vnet: {subnet: {nsg, others: count of IP configurations that are not NICs}}},
            nics: {name: {subnet: "vnet/subnet", nsg, public_ip}},
            scale_sets: {name: {subnet, nsg, instances: [public IP or null per instance]}},
            load_balancers: {name: {public_ip, backends: [NIC name or "scale set/index"],
                             nat: {NIC name or "scale set/index": frontend port}}}}
  dicom: {"GROUP/WORKSPACE": {name: {public: Enabled|Disabled, origins, allow_credentials, methods,
         cmk, private_endpoints: [status...], storage: account name, file_system}}}
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from arm_fake import ArmFake, FakeCredential, resource_id
from azurite import Azurite, azurite_blob, require_azurite

from cloudscan.providers.azure.clients import AzureClients, Endpoints

SUBSCRIPTION = "00000000-0000-0000-0000-0000000000a1"
# A container's public access as Resource Manager spells it -> as the data plane does
DATA_PLANE_ACCESS = {"None": None, "Blob": "blob", "Container": "container"}


@contextmanager
def built(fake: ArmFake, spec: dict[str, Any]) -> Iterator[World]:
    """A World built from `spec`, with Azurite running for the account whose blobs it holds
    (one at most: a scan takes one connection string)."""
    in_azurite = [name for name, a in spec.get("accounts", {}).items() if a.get("data_plane") == "azurite"]
    if not in_azurite:
        world = World(fake)
        world.build(spec)
        yield world
        return
    if len(in_azurite) > 1:
        raise ValueError(f"one account of a spec can be in Azurite, not {in_azurite}")
    require_azurite()
    with azurite_blob(accounts=(in_azurite[0],)) as azurite:
        world = World(fake, azurite=azurite)
        world.build(spec)
        yield world


class World:
    def __init__(
        self, fake: ArmFake, subscription: str = SUBSCRIPTION, azurite: Azurite | None = None
    ) -> None:
        self.fake, self.subscription, self.azurite = fake, subscription, azurite
        fake.put(f"/subscriptions/{subscription}")

    def clients(
        self, blob_connection_string: str | None = None, credential: Any = None, **client_options: Any
    ) -> AzureClients:
        """Clients for the scan, without retries. The data plane of an Azurite served over http
        is reached with its connection string (the account key) unless `blob_connection_string`
        says otherwise ("": none); over https, with `credential`'s token."""
        if blob_connection_string is None and self.azurite and self.azurite.scheme == "http":
            blob_connection_string = self.azurite.connection_string
        trust = self.azurite.client_options() if self.azurite else {}
        endpoints = Endpoints(
            arm=self.fake.url,
            blob_connection_string=blob_connection_string,
            client_options={"retry_total": 0, **trust, **client_options},
        )
        return AzureClients(credential or FakeCredential(), endpoints)

    def build(self, spec: dict[str, Any]) -> None:
        for name, account in spec.get("accounts", {}).items():
            self._account(name, account)
        for name, group in spec.get("nsgs", {}).items():
            self._nsg(name, group)
        for where, services in spec.get("dicom", {}).items():
            self._dicom(where, services)
        if "network" in spec:
            self._network(spec["network"])

    def _id(self, group: str, *parts: str) -> str:
        return resource_id(self.subscription, group, *parts)

    def _account(self, name: str, spec: dict[str, Any]) -> None:
        group = spec.get("group", "imaging")
        self.fake.put(resource_id(self.subscription, group))
        account_id = self._id(group, "Microsoft.Storage", "storageAccounts", name)
        properties: dict[str, Any] = {
            "publicNetworkAccess": spec.get("public_network", "Enabled"),
            "networkAcls": {
                "bypass": "AzureServices",
                "defaultAction": spec.get("default_action", "Allow"),
                "ipRules": [{"value": r, "action": "Allow"} for r in spec.get("ip_rules", [])],
                "virtualNetworkRules": [
                    {"id": subnet, "action": "Allow"} for subnet in spec.get("subnets", [])
                ],
            },
            "encryption": {"keySource": "Microsoft.Keyvault" if spec.get("cmk") else "Microsoft.Storage"},
            # No blob endpoint unless the spec gives one: a scan of a spec never leaves this machine.
            "primaryEndpoints": {"blob": endpoint} if (endpoint := self._blob_endpoint(name, spec)) else {},
            "supportsHttpsTrafficOnly": spec.get("https_only", True),
            "minimumTlsVersion": spec.get("tls", "TLS1_2"),
            "allowCrossTenantReplication": spec.get("cross_tenant", False),
        }
        if spec.get("cmk"):
            properties["encryption"]["keyvaultproperties"] = {
                "keyvaulturi": f"https://{name}-kv.vault.azure.net",
                "keyname": "archive",
            }
        if spec.get("allow_public") is not None:
            properties["allowBlobPublicAccess"] = spec["allow_public"]
        if spec.get("shared_key") is not None:
            properties["allowSharedKeyAccess"] = spec["shared_key"]
        if spec.get("worm"):
            properties["immutableStorageWithVersioning"] = {"enabled": True}
        self.fake.put(
            account_id,
            {
                "location": "westeurope",
                "kind": "StorageV2",
                "sku": {"name": "Standard_GRS"},
                "tags": spec.get("tags", {}),
                "properties": properties,
            },
        )
        service = f"{account_id}/blobServices/default"
        self.fake.put(
            service,
            {
                "properties": {
                    "isVersioningEnabled": spec.get("versioning", False),
                    "deleteRetentionPolicy": {
                        "enabled": bool(spec.get("soft_delete")),
                        "days": spec.get("soft_delete"),
                    },
                }
            },
        )
        if spec.get("logging"):
            setting = f"{service}/providers/Microsoft.Insights/diagnosticSettings/blob-reads"
            workspace = resource_id(
                self.subscription, "ops", "Microsoft.OperationalInsights", "workspaces", "ops"
            )
            self.fake.put(
                setting,
                {
                    "properties": {
                        "workspaceId": workspace,
                        "logs": [{"category": "StorageRead", "enabled": True}],
                    }
                },
            )
        for container, settings in spec.get("containers", {}).items():
            self.fake.put(
                f"{service}/containers/{container}",
                {
                    "properties": {
                        "publicAccess": settings.get("access", "None"),
                        "hasImmutabilityPolicy": settings.get("immutability", False),
                        "hasLegalHold": settings.get("legal_hold", False),
                    }
                },
            )
            if spec.get("data_plane") == "azurite":
                self.in_azurite(name, container, settings)
            elif settings.get("stored_access_policies"):
                raise ValueError(f"{name}/{container}: stored access policies are made in Azurite only")

    def _blob_endpoint(self, name: str, spec: dict[str, Any]) -> str | None:
        if spec.get("data_plane") != "azurite":
            return spec.get("blob_endpoint")
        if not self.azurite or name not in (self.azurite.accounts or (self.azurite.account_name,)):
            raise ValueError(f"account {name}: its data plane is Azurite, and this world's Azurite lacks it")
        return self.azurite.url_of(name)

    def in_azurite(self, account: str, container: str, settings: dict[str, Any]) -> None:
        """Make the container in Azurite, as its owner would: its public access level and its
        stored access policies (Set Container ACL, with the account key)."""
        from azure.storage.blob import AccessPolicy, BlobServiceClient

        assert self.azurite is not None
        blobs = BlobServiceClient.from_connection_string(
            self.azurite.connection_string_of(account), retry_total=0, **self.azurite.client_options()
        )
        access = DATA_PLANE_ACCESS[settings.get("access", "None")]
        client = blobs.create_container(container, public_access=access)
        now = datetime.now(UTC)
        policies = {}
        for policy in settings.get("stored_access_policies", []):
            days = policy.get("expires_in_days")
            # An hour past the whole days: the scan a moment later still counts them all.
            expiry = None if days is None else now + timedelta(days=days, hours=1)
            policies[policy["id"]] = AccessPolicy(permission=policy.get("permissions", "r"), expiry=expiry)
        if policies:
            # Set Container ACL replaces the public access level too: give it again.
            client.set_container_access_policy(policies, public_access=access)

    def _nsg(self, name: str, spec: dict[str, Any]) -> None:
        group = spec.get("group", "imaging")
        nsg_id = self._id(group, "Microsoft.Network", "networkSecurityGroups", name)
        rules = []
        for rule in spec.get("rules", []):
            properties: dict[str, Any] = {
                "priority": rule["priority"],
                "direction": rule.get("direction", "Inbound"),
                "access": rule.get("access", "Allow"),
                "protocol": rule.get("protocol", "Tcp"),
                "sourcePortRange": rule.get("source_port", "*"),
                "destinationAddressPrefix": rule.get("destination", "*"),
            }
            if "asg" in rule:
                asg_id = self._id(group, "Microsoft.Network", "applicationSecurityGroups", rule["asg"])
                properties["sourceApplicationSecurityGroups"] = [{"id": asg_id}]
            elif "sources" in rule:
                properties["sourceAddressPrefixes"] = rule["sources"]
            else:
                properties["sourceAddressPrefix"] = rule.get("source", "*")
            if "ports" in rule:
                properties["destinationPortRanges"] = rule["ports"]
            else:
                properties["destinationPortRange"] = rule.get("port", "*")
            rules.append(
                {
                    "id": f"{nsg_id}/securityRules/{rule['name']}",
                    "name": rule["name"],
                    "properties": properties,
                }
            )
        nics = []
        for i, address in enumerate(spec.get("public_ips", [])):
            ip_id = self._id(group, "Microsoft.Network", "publicIPAddresses", f"{name}-ip{i}")
            nic_id = self._id(group, "Microsoft.Network", "networkInterfaces", f"{name}-nic{i}")
            self.fake.put(ip_id, {"location": "westeurope", "properties": {"ipAddress": address}})
            self.fake.put(
                nic_id,
                {
                    "location": "westeurope",
                    "properties": {
                        "networkSecurityGroup": {"id": nsg_id},
                        "ipConfigurations": [
                            {
                                "id": f"{nic_id}/ipConfigurations/ip",
                                "name": "ip",
                                "properties": {"publicIPAddress": {"id": ip_id}},
                            }
                        ],
                    },
                },
            )
            nics.append({"id": nic_id})
        subnets = [{"id": s} for s in self._subnets(group, name, nsg_id, spec.get("subnet_public_ips", []))]
        properties = {"securityRules": rules, "networkInterfaces": nics, "subnets": subnets}
        self.fake.put(nsg_id, {"location": "westeurope", "properties": properties})

    def _subnets(self, group: str, name: str, nsg_id: str, addresses: list[str]) -> list[str]:
        """Subnets whose group is `nsg_id`, each with a NIC of no group of its own and a public IP."""
        out = []
        for i, address in enumerate(addresses):
            network_id = self._id(group, "Microsoft.Network", "virtualNetworks", f"{name}-vnet{i}")
            subnet_id = f"{network_id}/subnets/pacs"
            subnet = {"id": subnet_id, "name": "pacs", "properties": {"networkSecurityGroup": {"id": nsg_id}}}
            self.fake.put(network_id, {"location": "westeurope", "properties": {"subnets": [subnet]}})
            ip_id = self._id(group, "Microsoft.Network", "publicIPAddresses", f"{name}-subnet-ip{i}")
            nic_id = self._id(group, "Microsoft.Network", "networkInterfaces", f"{name}-subnet-nic{i}")
            self.fake.put(ip_id, {"location": "westeurope", "properties": {"ipAddress": address}})
            configuration = {"publicIPAddress": {"id": ip_id}, "subnet": {"id": subnet_id}}
            self.fake.put(
                nic_id,
                {
                    "location": "westeurope",
                    "properties": {
                        "ipConfigurations": [
                            {"id": f"{nic_id}/ipConfigurations/ip", "name": "ip", "properties": configuration}
                        ]
                    },
                },
            )
            out.append(subnet_id)
        return out

    def _network(self, spec: dict[str, Any]) -> None:
        """Virtual networks, NICs, scale sets and load balancers, in resource group "net", wired
        to groups of `nsgs` by name, with what ARM fills in itself: each subnet's IP
        configurations and each group's NICs and subnets."""
        group = "net"
        attached: dict[str, dict[str, list[dict[str, str]]]] = {}

        def nsg(name: str | None) -> dict[str, str] | None:
            return (
                {"id": self._id("imaging", "Microsoft.Network", "networkSecurityGroups", name)}
                if name
                else None
            )

        def public_ip(name: str, address: str | None) -> dict[str, str] | None:
            if not address:
                return None
            ip_id = self._id(group, "Microsoft.Network", "publicIPAddresses", name)
            self.fake.put(ip_id, {"location": "westeurope", "properties": {"ipAddress": address}})
            return {"id": ip_id}

        subnet_ids = {
            f"{vnet}/{subnet}": self._id(group, "Microsoft.Network", "virtualNetworks", vnet)
            + f"/subnets/{subnet}"
            for vnet, subnets in spec.get("vnets", {}).items()
            for subnet in subnets
        }
        members: dict[str, list[dict[str, str]]] = {s: [] for s in subnet_ids}
        configurations: dict[str, str] = {}  # NIC name or scale set/instance -> its IP configuration id

        def nic(nic_id: str, name: str, settings: dict[str, Any], address: str | None, store_at: str) -> None:
            configuration_id = f"{nic_id}/ipConfigurations/ip"
            properties: dict[str, Any] = {"subnet": {"id": subnet_ids[settings["subnet"]]}}
            if (ip := public_ip(f"{name.replace('/', '-')}-ip", address)) is not None:
                properties["publicIPAddress"] = ip
            body: dict[str, Any] = {
                "id": nic_id,
                "location": "westeurope",
                "properties": {
                    "ipConfigurations": [{"id": configuration_id, "name": "ip", "properties": properties}]
                },
            }
            if settings.get("nsg"):
                body["properties"]["networkSecurityGroup"] = nsg(settings["nsg"])
                attached.setdefault(settings["nsg"], {}).setdefault("networkInterfaces", []).append(
                    {"id": nic_id}
                )
            self.fake.put(store_at, body)
            members[settings["subnet"]].append({"id": configuration_id})
            configurations[name] = configuration_id

        for name, settings in spec.get("nics", {}).items():
            nic_id = self._id(group, "Microsoft.Network", "networkInterfaces", name)
            nic(nic_id, name, settings, settings.get("public_ip"), nic_id)
        for name, settings in spec.get("scale_sets", {}).items():
            scale_set = self._id(group, "Microsoft.Compute", "virtualMachineScaleSets", name)
            for i, address in enumerate(settings.get("instances", [])):
                nic_id = f"{scale_set}/virtualMachines/{i}/networkInterfaces/nic"
                # Listed under the scale set, as ARM lists them; each keeps its instance's id.
                stored_at = f"{scale_set}/networkInterfaces/nic{i}"
                nic(nic_id, f"{name}/{i}", settings, None, stored_at)
                if address:  # an instance's public IP lives under its NIC's IP configuration
                    ip_id = f"{nic_id}/ipConfigurations/ip/publicIPAddresses/pip"
                    body = {"id": ip_id, "location": "westeurope", "properties": {"ipAddress": address}}
                    self.fake.put(f"{scale_set}/publicIPAddresses/pip{i}", body)
                    configuration = self.fake.resources[stored_at.lower()]["properties"]["ipConfigurations"][
                        0
                    ]
                    configuration["properties"]["publicIPAddress"] = {"id": ip_id}
        for path, subnet_id in subnet_ids.items():
            vnet, subnet = path.split("/")
            settings = spec["vnets"][vnet][subnet] or {}
            extra = [
                {"id": f"{subnet_id}/gateway/ipConfigurations/{i}"} for i in range(settings.get("others", 0))
            ]
            properties: dict[str, Any] = {"ipConfigurations": members[path] + extra}
            if settings.get("nsg"):
                properties["networkSecurityGroup"] = nsg(settings["nsg"])
                attached.setdefault(settings["nsg"], {}).setdefault("subnets", []).append({"id": subnet_id})
            vnet_id = self._id(group, "Microsoft.Network", "virtualNetworks", vnet)
            stored = self.fake.resources.get(vnet_id.lower()) or self.fake.put(
                vnet_id, {"location": "westeurope", "properties": {"subnets": []}}
            )
            stored["properties"]["subnets"].append(
                {"id": subnet_id, "name": subnet, "properties": properties}
            )
        for name, settings in spec.get("load_balancers", {}).items():
            balancer = self._id(group, "Microsoft.Network", "loadBalancers", name)
            front = {
                "id": f"{balancer}/frontendIPConfigurations/front",
                "name": "front",
                "properties": {"publicIPAddress": public_ip(f"{name}-front", settings["public_ip"])},
            }
            pool_id = f"{balancer}/backendAddressPools/pool"
            pool = {
                "id": pool_id,
                "name": "pool",
                "properties": {
                    "backendIPConfigurations": [
                        {"id": configurations[b]} for b in settings.get("backends", [])
                    ]
                },
            }
            rule = {
                "id": f"{balancer}/loadBalancingRules/web",
                "name": "web",
                "properties": {
                    "frontendIPConfiguration": {"id": front["id"]},
                    "backendAddressPool": {"id": pool_id},
                    "protocol": "Tcp",
                    "frontendPort": 443,
                    "backendPort": 443,
                },
            }
            nats = [
                {
                    "id": f"{balancer}/inboundNatRules/{target.replace('/', '-')}",
                    "name": target.replace("/", "-"),
                    "properties": {
                        "frontendIPConfiguration": {"id": front["id"]},
                        "backendIPConfiguration": {"id": configurations[target]},
                        "protocol": "Tcp",
                        "frontendPort": port,
                        "backendPort": 104,
                    },
                }
                for target, port in settings.get("nat", {}).items()
            ]
            self.fake.put(
                balancer,
                {
                    "location": "westeurope",
                    "properties": {
                        "frontendIPConfigurations": [front],
                        "backendAddressPools": [pool],
                        "loadBalancingRules": [rule] if settings.get("backends") else [],
                        "inboundNatRules": nats,
                    },
                },
            )
        for name, links in attached.items():
            stored = self.fake.resources[nsg(name)["id"].lower()]  # type: ignore[index]
            for key, ids in links.items():
                stored["properties"][key] = stored["properties"].get(key, []) + ids

    def _dicom(self, where: str, services: dict[str, Any]) -> None:
        group, workspace = where.split("/")
        workspace_id = self._id(group, "Microsoft.HealthcareApis", "workspaces", workspace)
        self.fake.put(workspace_id, {"location": "westeurope", "properties": {}})
        for name, spec in services.items():
            properties: dict[str, Any] = {
                "publicNetworkAccess": spec.get("public", "Enabled"),
                "authenticationConfiguration": {
                    "authority": "https://login.microsoftonline.com/tenant",
                    "audiences": ["https://dicom.healthcareapis.azure.com"],
                },
            }
            if "origins" in spec:
                properties["corsConfiguration"] = {
                    "origins": spec["origins"],
                    "allowCredentials": spec.get("allow_credentials", False),
                    "methods": spec.get("methods", ["GET"]),
                }
            if spec.get("private_endpoints"):
                properties["privateEndpointConnections"] = [
                    {
                        "id": f"{workspace_id}/dicomservices/{name}/privateEndpointConnections/pe{i}",
                        "properties": {"privateLinkServiceConnectionState": {"status": status}},
                    }
                    for i, status in enumerate(spec["private_endpoints"])
                ]
            if spec.get("storage"):
                # an account name in this subscription's group, or a whole id anywhere
                account = spec["storage"]
                if not account.startswith("/"):
                    account = resource_id(
                        self.subscription, group, "Microsoft.Storage", "storageAccounts", account
                    )
                file_system = spec.get("file_system", "dicom")
                properties["storageConfiguration"] = {
                    "storageResourceId": account,
                    "fileSystemName": file_system,
                }
            if spec.get("cmk"):
                properties["encryption"] = {
                    "customerManagedKeyEncryption": {"keyEncryptionKeyUrl": spec["cmk"]}
                }
            self.fake.put(
                f"{workspace_id}/dicomservices/{name}", {"location": "westeurope", "properties": properties}
            )
