"""The ports of imaging systems, in one place: the inventory's probe targets and the CLI's help
are built from these, and a test holds the network policies to the same lists."""

from __future__ import annotations

# DIMSE (the DICOM network protocol): who may connect can query and retrieve studies.
DIMSE_PORTS = {
    104: "DICOM (well-known)",
    11112: "DICOM (registered)",
    4242: "Orthanc DICOM",
    2761: "DICOM over TLS (ISCL)",
    2762: "DICOM over TLS",
}
# Web viewers, DICOMweb APIs and application-server consoles of PACS.
WEB_PORTS = {
    8042: "Orthanc HTTP: REST API, DICOMweb, Explorer",
    8080: "dcm4chee-arc and other PACS on WildFly or Tomcat",
    8443: "dcm4chee-arc over HTTPS",
    80: "a viewer or DICOMweb behind a web server",
    443: "a viewer or DICOMweb behind a web server, over HTTPS",
    9990: "WildFly management console (dcm4chee-arc)",
}
# Where a DICOMweb service answers on a web port by default: what an inventory probes. A
# management console speaks no DICOMweb, so it has no entry.
DICOMWEB_BASES = {
    8042: "http://{host}:8042/dicom-web",
    8080: "http://{host}:8080/dcm4chee-arc/aets/DCM4CHEE/rs",
    8443: "https://{host}:8443/dcm4chee-arc/aets/DCM4CHEE/rs",
    80: "http://{host}/dicom-web",
    443: "https://{host}/dicom-web",
}


def listed(ports: dict[int, str]) -> str:
    return ", ".join(map(str, ports))
