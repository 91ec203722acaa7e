// ns-3 anchor (d): bulk TCP flows across a lossy dumbbell, for bench/run_tcp_ns3_compare.py.
//
//   sender i --access-- r0 ==bottleneck, random loss== r1 --access-- receiver i   (i < flows)
//
// Access links: --access rate, --adelay; the bottleneck: --bottleneck rate, --bdelay, and a
// packet error model dropping each packet with probability --loss in both directions. Every
// device has a DropTail queue of --queue packets and no queue disc. Flow i sends --bytes from
// t = 0 (BulkSendApplication; the handshake counts) to a PacketSink.
//
// TCP as the comparison pins it (bench/run_tcp_ns3_compare.py says why): NewReno, NewReno with
// byte counting in congestion avoidance (TcpNewRenoCounting below) or CUBIC (--cc; CUBIC
// without HyStart), SACK, window scaling and timestamps on, classic (RFC 6675)
// recovery rather than ns-3's default PRR, SegmentSize 1448, initial window 10, delayed ACKs
// every 2nd segment or 40 ms, MinRto 200 ms, a first SYN timeout of 1 s (RFC 6298 2.1, as
// netsim; ns-3's ConnTimeout defaults to 3 s), send and receive buffers of --buffer bytes.
//
//   ./tcp_dumbbell --flows=2 --bytes=10000000 --loss=0.01 --cc=newreno --seed=1
//
// Prints one line per flow, "FLOW i bytes=B done_s=T retransmits=R recoveries=F timeouts=O"
// (fast recoveries entered; retransmission timeouts that expired, each backoff counting, as
// netsim's tcp_timeouts counts them), then one RESULT line.
#include "common.h"

#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/traffic-control-module.h"

#include <map>
#include <vector>

using namespace ns3;

namespace
{

struct Flow
{
    uint64_t rxBytes = 0;
    double doneAt = -1;
    uint64_t target = 0;
    uint32_t highest = 0;      // highest data sequence number sent + 1
    bool sentAny = false;
    uint64_t retransmits = 0;  // data segments sent below `highest`
    uint64_t recoveries = 0;   // entries into fast recovery
    uint64_t timeouts = 0;     // retransmission timer expiries (SYN and data)
};

std::vector<Flow> g_flows;

} // namespace

// NewReno whose congestion avoidance counts acknowledged segments (RFC 3465 byte counting: one
// SMSS per cwnd of acknowledged data, as netsim's NewReno and Linux do). ns-3's TcpNewReno adds
// SMSS^2 / cwnd per ACK whatever it acknowledges, so with delayed ACKs it grows half as fast.
class TcpNewRenoCounting : public TcpNewReno
{
  public:
    static TypeId GetTypeId()
    {
        static TypeId tid = TypeId("ns3::TcpNewRenoCounting")
                                .SetParent<TcpNewReno>()
                                .AddConstructor<TcpNewRenoCounting>();
        return tid;
    }
    std::string GetName() const override { return "TcpNewRenoCounting"; }
    Ptr<TcpCongestionOps> Fork() override { return CopyObject<TcpNewRenoCounting>(this); }

  protected:
    void CongestionAvoidance(Ptr<TcpSocketState> tcb, uint32_t segmentsAcked) override
    {
        m_acked += uint64_t(segmentsAcked) * tcb->m_segmentSize;
        if (m_acked >= tcb->m_cWnd.Get())
        {
            m_acked -= tcb->m_cWnd.Get();
            tcb->m_cWnd += tcb->m_segmentSize;
        }
    }

  private:
    uint64_t m_acked = 0;
};

namespace
{

void
SinkRx(uint32_t i, Ptr<const Packet> p, const Address&)
{
    Flow& f = g_flows[i];
    f.rxBytes += p->GetSize();
    if (f.rxBytes >= f.target && f.doneAt < 0)
        f.doneAt = Simulator::Now().GetSeconds();
}

void
SenderTx(uint32_t i, Ptr<const Packet> p, const TcpHeader& h, Ptr<const TcpSocketBase>)
{
    if (p->GetSize() == 0)
        return;
    Flow& f = g_flows[i];
    const uint32_t seq = h.GetSequenceNumber().GetValue();
    const uint32_t end = seq + p->GetSize();
    if (f.sentAny && int32_t(seq - f.highest) < 0)
        ++f.retransmits;
    if (!f.sentAny || int32_t(end - f.highest) > 0)
        f.highest = end;
    f.sentAny = true;
}

void
SenderState(uint32_t i, TcpSocketState::TcpCongState_t, TcpSocketState::TcpCongState_t to)
{
    if (to == TcpSocketState::CA_RECOVERY)
        ++g_flows[i].recoveries;
}

// TcpSocketBase::ReTxTimeout doubles the RTO (up to 60 s) each time the timer expires, and
// nothing else doubles it exactly: an RTT sample recomputes it from SRTT and RTTVAR.
void
SenderRto(uint32_t i, Time from, Time to)
{
    if (to == from * 2 || (to == Seconds(60) && from * 2 > to))
        ++g_flows[i].timeouts;
}

void
HookSender(uint32_t i, Ptr<BulkSendApplication> app)
{
    Ptr<Socket> s = app->GetSocket();
    s->TraceConnectWithoutContext("Tx", MakeBoundCallback(&SenderTx, i));
    s->TraceConnectWithoutContext("CongState", MakeBoundCallback(&SenderState, i));
    s->TraceConnectWithoutContext("RTO", MakeBoundCallback(&SenderRto, i));
}

NetDeviceContainer
Link(Ptr<Node> a, Ptr<Node> b, const std::string& rate, const std::string& delay, uint32_t queue)
{
    PointToPointHelper p2p;
    p2p.SetDeviceAttribute("DataRate", StringValue(rate));
    p2p.SetChannelAttribute("Delay", StringValue(delay));
    p2p.SetQueue("ns3::DropTailQueue<Packet>",
                 "MaxSize",
                 QueueSizeValue(QueueSize(QueueSizeUnit::PACKETS, queue)));
    return p2p.Install(a, b);
}

} // namespace

int
main(int argc, char* argv[])
{
    uint32_t flows = 2;
    uint64_t bytes = 10000000;
    double loss = 0.01;
    std::string access = "1Gbps";
    std::string adelay = "1ms";
    std::string bottleneck = "100Mbps";
    std::string bdelay = "10ms";
    uint32_t queue = 1000;
    std::string cc = "newreno";
    uint32_t buffer = 4194304;
    uint32_t segment = 1448;
    uint32_t seed = 1;
    double stop = 600;

    CommandLine cmd(__FILE__);
    cmd.AddValue("flows", "sender/receiver pairs", flows);
    cmd.AddValue("bytes", "bytes each flow carries", bytes);
    cmd.AddValue("loss", "packet loss probability on the bottleneck, each direction", loss);
    cmd.AddValue("access", "access link rate", access);
    cmd.AddValue("adelay", "access link delay", adelay);
    cmd.AddValue("bottleneck", "bottleneck rate", bottleneck);
    cmd.AddValue("bdelay", "bottleneck delay", bdelay);
    cmd.AddValue("queue", "DropTail queue of every device, packets", queue);
    cmd.AddValue("cc", "newreno|newreno-counting|cubic", cc);
    cmd.AddValue("buffer", "socket send and receive buffers, bytes", buffer);
    cmd.AddValue("segment", "SegmentSize (payload bytes per segment)", segment);
    cmd.AddValue("seed", "ns-3 RNG run number", seed);
    cmd.AddValue("stop", "simulation end, seconds", stop);
    cmd.Parse(argc, argv);
    if (flows == 0 || bytes == 0)
        NS_FATAL_ERROR("need flows >= 1 and bytes >= 1");
    if (cc != "newreno" && cc != "newreno-counting" && cc != "cubic")
        NS_FATAL_ERROR("--cc must be newreno, newreno-counting or cubic");

    RngSeedManager::SetSeed(1);
    RngSeedManager::SetRun(seed);
    const TypeId ccType = cc == "cubic"              ? TcpCubic::GetTypeId()
                          : cc == "newreno-counting" ? TcpNewRenoCounting::GetTypeId()
                                                     : TcpNewReno::GetTypeId();
    Config::SetDefault("ns3::TcpL4Protocol::SocketType", TypeIdValue(ccType));
    Config::SetDefault("ns3::TcpL4Protocol::RecoveryType",
                       TypeIdValue(TcpClassicRecovery::GetTypeId()));
    Config::SetDefault("ns3::TcpCubic::HyStart", BooleanValue(false));
    Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(segment));
    Config::SetDefault("ns3::TcpSocket::InitialCwnd", UintegerValue(10));
    Config::SetDefault("ns3::TcpSocket::DelAckCount", UintegerValue(2));
    Config::SetDefault("ns3::TcpSocket::DelAckTimeout", TimeValue(MilliSeconds(40)));
    Config::SetDefault("ns3::TcpSocket::SndBufSize", UintegerValue(buffer));
    Config::SetDefault("ns3::TcpSocket::RcvBufSize", UintegerValue(buffer));
    Config::SetDefault("ns3::TcpSocketBase::MinRto", TimeValue(MilliSeconds(200)));
    Config::SetDefault("ns3::TcpSocket::ConnTimeout", TimeValue(Seconds(1)));
    Config::SetDefault("ns3::TcpSocketBase::Sack", BooleanValue(true));
    Config::SetDefault("ns3::TcpSocketBase::Timestamp", BooleanValue(true));
    Config::SetDefault("ns3::TcpSocketBase::WindowScaling", BooleanValue(true));

    NodeContainer senders, receivers, routers;
    senders.Create(flows);
    receivers.Create(flows);
    routers.Create(2);
    InternetStackHelper stack;
    stack.InstallAll();

    Ipv4AddressHelper addr;
    std::vector<NetDeviceContainer> devices;
    std::vector<Ipv4Address> receiverAddr(flows);
    uint32_t subnet = 0;
    auto assign = [&](NetDeviceContainer d) {
        addr.SetBase(Ipv4Address((10u << 24) | (++subnet << 8)), Ipv4Mask("255.255.255.0"));
        Ipv4InterfaceContainer ifc = addr.Assign(d);
        TrafficControlHelper().Uninstall(d); // Assign installs FqCoDel: back to plain DropTail
        return ifc;
    };
    NetDeviceContainer core = Link(routers.Get(0), routers.Get(1), bottleneck, bdelay, queue);
    assign(core);
    for (uint32_t i = 0; i < 2; ++i)
    {
        Ptr<RateErrorModel> em = CreateObject<RateErrorModel>();
        em->SetUnit(RateErrorModel::ERROR_UNIT_PACKET);
        em->SetRate(loss);
        em->AssignStreams(100 + i);
        core.Get(i)->SetAttribute("ReceiveErrorModel", PointerValue(em));
    }
    for (uint32_t i = 0; i < flows; ++i)
    {
        assign(Link(senders.Get(i), routers.Get(0), access, adelay, queue));
        Ipv4InterfaceContainer r = assign(Link(routers.Get(1), receivers.Get(i), access, adelay, queue));
        receiverAddr[i] = r.GetAddress(1);
    }
    Ipv4GlobalRoutingHelper::PopulateRoutingTables();

    g_flows.resize(flows);
    const uint16_t port = 5000;
    for (uint32_t i = 0; i < flows; ++i)
    {
        g_flows[i].target = bytes;
        BulkSendHelper bulk("ns3::TcpSocketFactory", InetSocketAddress(receiverAddr[i], port));
        bulk.SetAttribute("MaxBytes", UintegerValue(bytes));
        bulk.SetAttribute("SendSize", UintegerValue(segment));
        ApplicationContainer a = bulk.Install(senders.Get(i));
        a.Start(Seconds(0));
        Simulator::Schedule(NanoSeconds(1),
                            &HookSender,
                            i,
                            DynamicCast<BulkSendApplication>(a.Get(0)));

        PacketSinkHelper sink("ns3::TcpSocketFactory", InetSocketAddress(Ipv4Address::GetAny(), port));
        ApplicationContainer s = sink.Install(receivers.Get(i));
        s.Get(0)->TraceConnectWithoutContext("Rx", MakeBoundCallback(&SinkRx, i));
        s.Start(Seconds(0));
    }
    Simulator::Stop(Seconds(stop));
    const double t0 = anchor::nowSeconds();
    Simulator::Run();
    const double run = anchor::nowSeconds() - t0;
    Simulator::Destroy();

    bool all = true;
    uint64_t rx = 0, retransmits = 0;
    double last = 0;
    for (uint32_t i = 0; i < flows; ++i)
    {
        const Flow& f = g_flows[i];
        std::printf("FLOW %u bytes=%llu done_s=%.6f retransmits=%llu recoveries=%llu timeouts=%llu\n",
                    i,
                    (unsigned long long)f.rxBytes,
                    f.doneAt,
                    (unsigned long long)f.retransmits,
                    (unsigned long long)f.recoveries,
                    (unsigned long long)f.timeouts);
        all = all && f.doneAt >= 0;
        rx += f.rxBytes;
        retransmits += f.retransmits;
        last = std::max(last, f.doneAt);
    }
    std::printf("RESULT bench=ns3-tcp-dumbbell cc=%s loss=%g flows=%u bytes_per_flow=%llu "
                "rx_bytes=%llu done_s=%.6f retransmits=%llu run_s=%.3f cpu_s=%.3f peak_rss_kb=%ld\n",
                cc.c_str(),
                loss,
                flows,
                (unsigned long long)bytes,
                (unsigned long long)rx,
                last,
                (unsigned long long)retransmits,
                run,
                anchor::processCpuSeconds(),
                anchor::peakRssKb());
    return all ? 0 : 1;
}
