// Package nftjson parses the output of "nft -j list ruleset" into typed
// tables, chains, sets and rules.
//
// Expressions and statements it does not know are kept as Other nodes
// with their raw JSON, so the caller can report them; nothing is skipped.
// Wherever nft may write a scalar or a list, both are accepted: the shape
// varies between nft versions under the same schema version.
package nftjson
