"""Where scan dicomweb's targets come from: arguments, a target file, and the inventory of a
cloud scan (from "port 4242 is open to the internet" to "and it answers without a login")."""

from __future__ import annotations

import json
from pathlib import Path

import aws_world
import pytest
from click.testing import CliRunner

from cloudscan.cli import cli
from cloudscan.providers.dicomweb import TargetError, Targets, read_inventory, read_target_file
from cloudscan.report import Format, render
from cloudscan.scan import scan_aws


def test_a_target_file_with_comments_urls_and_dicom_addresses(tmp_path):
    listed = tmp_path / "targets.txt"
    listed.write_text(
        "# radiology network\nhttps://pacs.example.org/dicom-web/   # main archive\n\n"
        "dicom://10.0.4.20:104/ARCHIVE\nhttps://pacs.example.org/dicom-web\n"
    )
    targets = Targets()
    read_target_file(listed, targets)
    assert targets.urls == ["https://pacs.example.org/dicom-web"]
    (dimse,) = targets.dimse
    assert (dimse.host, dimse.port, dimse.called_ae) == ("10.0.4.20", 104, "ARCHIVE")


def test_a_bad_line_names_the_file_and_line(tmp_path):
    listed = tmp_path / "targets.txt"
    listed.write_text("https://pacs.example.org/dicom-web\npacs.example.org:8042\n")
    result = CliRunner().invoke(cli, ["scan", "dicomweb", "--targets", str(listed)])
    assert result.exit_code == 2
    assert f"{listed}:2" in result.output


def test_inventory_gives_the_open_ports_of_public_addresses(aws, tmp_path, builtin_policies):
    aws_world.build(
        {
            "security_groups": {
                "orthanc": {
                    "attached": True,
                    "public_ip": True,
                    "ingress": [
                        {"protocol": "tcp", "from": 4242, "to": 4242, "cidr": "0.0.0.0/0"},
                        {"protocol": "tcp", "from": 8042, "to": 8042, "cidr": "0.0.0.0/0"},
                        {"protocol": "tcp", "from": 22, "to": 22, "cidr": "0.0.0.0/0"},
                    ],
                },
                "internal-pacs": {
                    "attached": True,
                    "public_ip": True,
                    "ingress": [{"protocol": "tcp", "from": 104, "to": 104, "cidr": "10.0.0.0/8"}],
                },
                "unattached": {
                    "ingress": [{"protocol": "tcp", "from": 11112, "to": 11112, "cidr": "0.0.0.0/0"}]
                },
            }
        }
    )
    result = scan_aws(aws_world.session(), builtin_policies, regions=("us-east-1",))
    report = tmp_path / "inventory.json"
    report.write_text(render(Format.JSON, result))
    public = {r["group"]["name"]: r["addresses"] for r in result.resources if r["kind"] == "network.ingress"}
    (ip,) = public["orthanc"]
    assert public["internal-pacs"] and public["unattached"] == []

    targets = Targets()
    notes = read_inventory(report, targets)
    assert targets.urls == [f"http://{ip}:8042/dicom-web"]
    assert [t.id for t in targets.dimse] == [f"dicom://{ip}:4242"]
    assert len(notes) == 1 and "11112" in notes[0] and "no public IPv4 address" in notes[0]


def test_inventory_that_is_not_a_report(tmp_path):
    wrong = tmp_path / "findings.json"
    wrong.write_text(json.dumps({"findings": []}))
    with pytest.raises(TargetError, match="not a cloudscan JSON report"):
        read_inventory(wrong, Targets())
    result = CliRunner().invoke(cli, ["scan", "dicomweb", "--from-inventory", str(wrong)])
    assert result.exit_code == 2 and "findings.json" in result.output


def _rule(source: str = "0.0.0.0/0", addresses=("203.0.113.7",), ports=(104, 104)) -> dict:
    return {
        "kind": "network.ingress",
        "id": f"rule {source} {addresses}",
        "addresses": None if addresses is None else list(addresses),
        "rule": {"protocol": "tcp", "from_port": ports[0], "to_port": ports[1], "source": source},
        "exposure": {"internet": True},
    }


def _inventory(tmp_path, *rules: dict):
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"resources": list(rules)}))
    return report


def test_inventory_matches_the_address_family_of_the_rule(tmp_path):
    report = _inventory(
        tmp_path,
        _rule("::/0", ["203.0.113.7", "2001:db8::7"]),
        _rule("0.0.0.0/0", ["203.0.113.8", "2001:db8::8"]),
        _rule("0.0.0.0/0", None),
    )
    targets = Targets()
    notes = read_inventory(report, targets)
    assert [t.id for t in targets.dimse] == ["dicom://[2001:db8::7]:104", "dicom://203.0.113.8:104"]
    assert len(notes) == 1 and "unknown" in notes[0]


def test_inventory_rules_with_unresolved_ports_cover_every_port(tmp_path):
    targets = Targets()
    assert read_inventory(_inventory(tmp_path, _rule(ports=(None, None))), targets) == []
    assert "dicom://203.0.113.7:104" in [t.id for t in targets.dimse]
    assert "http://203.0.113.7:8042/dicom-web" in targets.urls


def test_an_inventory_whose_open_rules_name_no_address_says_so(tmp_path):
    report = _inventory(tmp_path, _rule(addresses=None, ports=(4242, 4242)))
    result = CliRunner().invoke(cli, ["scan", "dicomweb", "--from-inventory", str(report)])
    assert result.exit_code == 2
    assert "none names a public address" in result.output


def test_scheme_and_host_case_make_one_target():
    targets = Targets()
    targets.add("HTTP://PACS.Example.org:8042/dicom-web/", "argument")
    targets.add("http://pacs.example.org:8042/dicom-web", "argument")
    assert targets.urls == ["http://pacs.example.org:8042/dicom-web"]


def test_scan_config_without_any_configuration_is_a_usage_error(tmp_path):
    (tmp_path / "config.json").write_text('{"name": "not orthanc"}')
    result = CliRunner().invoke(cli, ["scan", "config", str(tmp_path)])
    assert result.exit_code == 2 and "no Orthanc configuration found" in result.output


def test_a_repository_with_package_json_and_alternative_configs(tmp_path):
    """orthanc.json merges only with files that hold Orthanc settings; orthanc-dev.json stands alone."""
    (tmp_path / "orthanc.json").write_text(
        '{"RemoteAccessAllowed": true, "AuthenticationEnabled": true, '
        '"RegisteredUsers": {"ris": "from-the-vault"}}'
    )
    (tmp_path / "package.json").write_text('{"name": "viewer", "extends": "x"}')
    (tmp_path / "credentials.json").write_text('{"RegisteredUsers": {"ris": "from-the-vault"}}')
    (tmp_path / "orthanc-dev.json").write_text(
        '{"RemoteAccessAllowed": true, "AuthenticationEnabled": false}'
    )
    result = CliRunner().invoke(
        cli,
        ["scan", "config", str(tmp_path), "--format", "json", "--only", "pacs-no-unauthenticated-admin"],
    )
    report = json.loads(result.output[: result.output.rindex("}") + 1])
    # ids are relative to the scan root: tmp_path, which is no repository
    statuses = {f["resource"]["id"]: f["status"] for f in report["findings"]}
    # credentials.json repeats RegisteredUsers: Orthanc refuses a key set twice, so orthanc.json's
    # configuration is UNKNOWN; package.json is not part of it; orthanc-dev.json is judged alone.
    assert statuses == {"orthanc.json#http": "UNKNOWN", "orthanc-dev.json#http": "FAIL"}


def test_strict_counts_only_what_left_a_result_unjudged():
    """A note on a field no selected policy reads (the certificate of a configuration) does not
    make the scan incomplete."""
    fixture = str(Path(__file__).resolve().parent.parent / "terraform-fixtures/orthanc-configs/hardened")
    args = ["scan", "config", fixture, "--strict"]
    assert CliRunner().invoke(cli, [*args, "--skip", "dicomweb-valid-certificate"]).exit_code == 0
    assert CliRunner().invoke(cli, args).exit_code == 3
