namespace netsim {}
