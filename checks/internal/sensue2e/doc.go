// Package sensue2e runs the collection under a real Sensu Go backend and
// two agents on loopback, deployed the way the README says: the release
// archive served as an asset with its sha512, assets/ loaded with
// `sensuctl create -f`. It needs the Sensu Go binaries: $SENSU_GO_DIR
// (.ci/run sets it to ../shared/tools/sensu-go beside the repository).
package sensue2e
