#!/usr/bin/env bash
# Capture-engine benchmark (issue: at least 10 Gbit/s per core on a generated hospital mix).
# Generates a >= 400 MB synthetic hospital capture once, warms the page cache, then times in
# the same run: a pure record walk (the floor), `ward analyze` on 1 and 2 workers with every
# dissector, and tshark as the peer. Prints a Markdown table for docs/BENCHMARKS.md.
# Usage: scripts/bench-capture.sh [SIZE] (default 400M). Needs tshark (WARD_BENCH_TOOLS=1 scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-400M}"
dir="${WARD_BENCH_DIR:-/tmp/ward-bench}"
mkdir -p "$dir"
WARD_BENCH_TOOLS=1 scripts/setup.sh
cargo build --release -q -p ward
ward=target/release/ward
pcap="$dir/hospital-$size.pcap"
[ -f "$pcap" ] || $ward generate --seed 42 --size "$size" --out "$pcap"
bytes=$(stat -c %s "$pcap")
cat "$pcap" > /dev/null

run() { # label command... ; prints label, seconds, peak RSS KiB
  local label="$1"; shift
  local best="" rss=""
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$@" > /dev/null 2> "$dir/stderr.txt" || { cat "$dir/stderr.txt" >&2; return 1; }
    read -r secs kib < "$dir/time.txt"
    if [ -z "$best" ] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; rss=$kib; fi
  done
  awk -v l="$label" -v s="$best" -v b="$bytes" -v r="$rss" \
    'BEGIN{ printf "| %s | %.2f | %.2f | %d |\n", l, s, (s>0? b*8/s/1e9 : 0), r/1024 }'
}

echo "file: $pcap ($bytes bytes), $(nproc) cores, $(date -u +%F)"
echo
echo "| run | seconds (best of 3) | Gbit/s | peak RSS MiB |"
echo "|---|---|---|---|"
run "record walk (floor)" $ward analyze --walk-only "$pcap"
run "ward analyze, 1 worker" $ward analyze -j 1 --no-progress --format json "$pcap"
run "ward analyze, 2 workers" $ward analyze -j 2 --no-progress --format json "$pcap"
run "tshark -q -z conv,tcp" tshark -n -r "$pcap" -q -z conv,tcp
run "tshark -T fields (same facts)" tshark -n -r "$pcap" -d tcp.port==104,dicom -d tcp.port==11112,dicom \
  -d tcp.port==2575,hl7 -d tcp.port==6661,hl7 -T fields -e frame.number -e dhcp.option.hostname \
  -e dhcp.option.vendor_class_id -e http.user_agent -e http.server -e tls.handshake.extensions_server_name \
  -e lldp.tlv.system.name -e cdp.deviceid -e smb2.dialect -e dicom.assoc.item.type -e hl7.raw.segment

# The DICOM/HL7-heavy mix (issue 3): half generated hospital (mostly DICOM), half HL7 over MLLP.
half=$(( ${bytes} / 2 ))
clin="$dir/clinical-$size.pcap"
if [ ! -f "$clin" ]; then
  $ward generate --seed 42 --size "$half" --out "$dir/hospital-half.pcap"
  python3 scripts/gen-hl7-mix.py "$dir/hl7-half.pcap" "$half" 400
  mergecap -F pcap -w "$clin" "$dir/hospital-half.pcap" "$dir/hl7-half.pcap"
fi
bytes=$(stat -c %s "$clin")
cat "$clin" > /dev/null
echo
echo "file: $clin ($bytes bytes)"
echo
echo "| run | seconds (best of 3) | Gbit/s | peak RSS MiB |"
echo "|---|---|---|---|"
run "record walk (floor)" $ward analyze --walk-only "$clin"
run "ward analyze, 1 worker" $ward analyze -j 1 --no-progress --format json "$clin"
run "ward analyze, 2 workers" $ward analyze -j 2 --no-progress --format json "$clin"
run "tshark -q -z conv,tcp" tshark -n -r "$clin" -q -z conv,tcp
run "tshark -T fields (DICOM, HL7)" tshark -n -r "$clin" -d tcp.port==104,dicom -d tcp.port==11112,dicom \
  -d tcp.port==2575,hl7 -T fields -e frame.number -e dicom.assoc.item.type -e hl7.raw.segment
