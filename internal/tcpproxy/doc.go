// Package tcpproxy is a loopback TCP proxy between a client and a server,
// for tests and benchmarks: it forwards bytes both ways, optionally after a
// fixed one-way delay in each direction (a model of the network between a
// client and a distant server), and on demand cuts every connection or
// blackholes traffic (a model of outages).
//
// The delay is added to every byte in each direction, and nothing else
// changes: bandwidth, ordering and the server's own costs stay as they are.
// A request and its answer thus take the server's time plus twice the delay.
package tcpproxy
