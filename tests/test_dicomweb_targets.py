"""Where scan dicomweb's targets come from: arguments, a target file, and the inventory of a
cloud scan (from "port 4242 is open to the internet" to "and it answers without a login")."""

from __future__ import annotations

import json

import aws_world
import pytest
from click.testing import CliRunner

from cloudscan.cli import cli
from cloudscan.providers.dicomweb import TargetError, Targets, read_inventory, read_target_file
from cloudscan.report import Format, render
from cloudscan.scan import scan_aws


def test_a_target_file_with_comments_urls_and_dicom_addresses(tmp_path):
    listed = tmp_path / "targets.txt"
    listed.write_text("# radiology network\nhttps://pacs.example.org/dicom-web/   # main archive\n\n"
                      "dicom://10.0.4.20:104/ARCHIVE\nhttps://pacs.example.org/dicom-web\n")
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
    aws_world.build({"security_groups": {
        "orthanc": {"attached": True, "public_ip": True, "ingress": [
            {"protocol": "tcp", "from": 4242, "to": 4242, "cidr": "0.0.0.0/0"},
            {"protocol": "tcp", "from": 8042, "to": 8042, "cidr": "0.0.0.0/0"},
            {"protocol": "tcp", "from": 22, "to": 22, "cidr": "0.0.0.0/0"}]},
        "internal-pacs": {"attached": True, "public_ip": True, "ingress": [
            {"protocol": "tcp", "from": 104, "to": 104, "cidr": "10.0.0.0/8"}]},
        "unattached": {"ingress": [{"protocol": "tcp", "from": 11112, "to": 11112, "cidr": "0.0.0.0/0"}]}}})
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
    assert len(notes) == 1 and "11112" in notes[0] and "no public address" in notes[0]


def test_inventory_that_is_not_a_report(tmp_path):
    wrong = tmp_path / "findings.json"
    wrong.write_text(json.dumps({"findings": []}))
    with pytest.raises(TargetError, match="not a cloudscan JSON report"):
        read_inventory(wrong, Targets())
    result = CliRunner().invoke(cli, ["scan", "dicomweb", "--from-inventory", str(wrong)])
    assert result.exit_code == 2 and "findings.json" in result.output
