// placeholder until the trace writer lands
namespace netsim {}
