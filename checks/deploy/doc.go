// Package deploy discovers a whole Redis deployment from one or more seed
// addresses: the Sentinels, masters and replicas a Sentinel knows, the
// members of a Cluster, the replicas of a master, and every port each of
// them should expose (data, TLS, cluster bus, Sentinel).
//
// The addresses come from the servers themselves, which may be hostile or
// misconfigured: an address outside the scope the operator gave is
// reported and never connected to, node counts and replies are capped, and
// the whole walk runs under the caller's deadline with bounded parallelism.
//
// The replies are parsed by pure functions (parse_*.go) that the walker
// (walk.go) feeds; the model is in model.go.
package deploy
