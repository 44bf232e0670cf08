// Package migrations holds the numbered SQL migrations of the registry schema, embedded in the
// binary. Files are named NNNN_name.up.sql and NNNN_name.down.sql; the runner lives in
// registry/postgres.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
