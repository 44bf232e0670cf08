package main

import (
	"testing"

	"github.com/vungtrong/vungtrong/registry/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
