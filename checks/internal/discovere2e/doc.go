// Package discovere2e runs the --discover mode of the checks against real
// deployments: a Sentinel deployment and a Redis Cluster, each node a
// redis-server in its own network namespace on one bridge, with announced
// addresses, TLS on some nodes, a node that announces an address outside
// the scope, a replica that is down, a trusted and an untrusted vantage
// point. The tests need root (they skip without it).
package discovere2e
