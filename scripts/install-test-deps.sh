#!/usr/bin/env bash
# Installs the real peers the tests start on loopback (Debian packages). As root it installs
# them with apt-get; otherwise it names what is missing and stops.
set -euo pipefail

packages=(
  mosquitto          # a reference MQTT broker (external-broker tests)
  mosquitto-clients  # mosquitto_pub / mosquitto_sub: clients no one here wrote
  python3-hl7        # an independent HL7v2 parser to check what the hub sends
  socat              # serial port pairs without hardware
  openssl            # self-signed certificates for the TLS tests
  influxdb           # InfluxDB 1.x: the turnaround metrics and every dashboard query run against it
  chromium           # headless browser for the hub's pages (driven by playwright-core)
  dcmtk              # DICOM tools no one here wrote: storescu, findscu, storescp (the speed reference), dcmdump, dcm2pdf
  libjpeg-turbo-progs # cjpeg: real baseline and progressive JPEGs for the cart photo tests (adapters/dicom/jpeg.ts, photo.ts)
  orthanc            # a real PACS for the forwarding tests
  python3 make g++   # better-sqlite3 builds from source when no prebuilt binary can be fetched
  poppler-utils      # pdftotext: reads back the GP report PDFs (adapters/gp/pdf) with a reader no one here wrote
  libxml2-utils      # xmllint: well-formedness and XPath checks of the CR-BIO CDA documents (adapters/gp/cda)
  python3-aiosmtpd   # a real SMTP server (STARTTLS, AUTH) for the GP mail tests (adapters/gp/mail); /usr/bin/python3's email package parses what it got
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "test dependencies: all present"
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  echo "test dependencies: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "test dependencies missing: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
