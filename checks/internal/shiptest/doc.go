// Package shiptest holds no code: its tests keep the release files true.
//
// They check that .goreleaser.yml builds every binary in cmd/, that
// .bonsai.yml names exactly the archives goreleaser makes and that its
// filters pick the right one for each platform, that every resource in
// assets/ is a valid Sensu core/v2 resource whose commands, flags,
// annotations and timeouts fit the real binaries, and that README.md shows
// each binary's real --help. The snapshot build (slow: every platform of
// every binary) runs only in strict mode or when REDIS_CHECKS_RELEASE=1.
package shiptest
