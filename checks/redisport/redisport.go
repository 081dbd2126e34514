// Package redisport declares the TCP ports a Redis deployment listens on by
// default, once, for every check that looks for them.
package redisport

import (
	"strconv"
	"strings"
)

// Port is a TCP port number.
type Port uint16

// The guide's Redis ports.
const (
	Data       Port = 6379  // clients, and TLS when a deployment moves it there
	ClusterBus Port = 16379 // Redis Cluster's node-to-node bus: the data port + 10000
	Sentinel   Port = 26379 // Redis Sentinel
)

// Defaults returns the ports a check looks at unless told otherwise: data,
// cluster bus, Sentinel. The slice is new on every call, so a caller may
// change it.
func Defaults() []Port { return []Port{Data, ClusterBus, Sentinel} }

// Int is the port as the flag and socket APIs take it.
func (p Port) Int() int { return int(p) }

// String is the decimal number.
func (p Port) String() string { return strconv.Itoa(int(p)) }

// Join is the ports as a --ports flag writes them: "6379,16379,26379".
func Join(ports []Port) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// Ints converts the ports for code that counts in int.
func Ints(ports []Port) []int {
	out := make([]int, len(ports))
	for i, p := range ports {
		out[i] = int(p)
	}
	return out
}
