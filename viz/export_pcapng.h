// pcapng export (draft-ietf-opsawg-pcapng): one section, one interface description block per
// simulated interface ("host/eth0", LINKTYPE_RAW, nanosecond timestamps), and an enhanced packet
// block per captured event with real IPv4/IPv6 + TCP/UDP/ICMP(v6) headers and correct checksums:
// by default each tx (once per link traversal, epb_flags outbound), or each rx (inbound), or both
// (PcapngCapture). What became of the packet (demux verdict, drop reason, forwarding) is the
// comment of its capture.
#pragma once

#include <memory>
#include <ostream>

#include "viz/trace_exporter.h"

namespace netsim {

// Payload bytes: the `data` of a deliver event for the same packet id when its length matches
// `len`; otherwise kPayloadPattern repeated (byte i = kPayloadPattern[i % 26]).
inline constexpr char kPayloadPattern[] = "abcdefghijklmnopqrstuvwxyz";

std::unique_ptr<TraceExporter> make_pcapng_exporter(std::ostream& out,
                                                    PcapngCapture capture = PcapngCapture::kTx);

}  // namespace netsim
