// Package vungtrong_test holds the test that keeps the package layout of ../shared/DESIGN.md
// true: which packages may import which.
package vungtrong_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/vungtrong/vungtrong"

// forbidden lists, for each package prefix (relative to the module), imports it must never
// have, directly or through others.
var forbidden = map[string][]string{
	"registry":          {"github.com/jackc/pgx", "github.com/go-chi/chi", "github.com/spf13/viper", "net/http", module + "/web", module + "/tiles", module + "/importers"},
	"geo":               {module + "/registry", module + "/web", "github.com/jackc/pgx", "net/http", "github.com/spf13/viper"},
	"vntext":            {module + "/registry", module + "/geo", "net/http"},
	"farmland":          {module + "/registry", "github.com/jackc/pgx", "net/http"},
	"tiles":             {module + "/registry", "github.com/spf13/viper"},
	"web":               {module + "/registry/postgres", module + "/tiles/postgis", module + "/importers", "github.com/jackc/pgx", "github.com/spf13/viper", module + "/pgcluster"},
	"registry/postgres": {module + "/web", module + "/tiles", module + "/importers", "github.com/go-chi/chi", "github.com/spf13/viper", "net/http"},
	"importers":         {module + "/web", module + "/registry/postgres", module + "/tiles", "github.com/spf13/viper"},
	"pgcluster":         {module + "/registry", module + "/web", "github.com/spf13/viper"},
	"migrations":        {module + "/registry"},
	// Compliance formats (EUDR geolocation, EPCIS) are pure: the registry's adapters feed them.
	"compliance": {"github.com/jackc/pgx", "net/http", module + "/web", module + "/registry", module + "/tiles", "github.com/spf13/viper"},
}

func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	checked := 0
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		for prefix, bans := range forbidden {
			if pkg != prefix && !strings.HasPrefix(pkg, prefix+"/") {
				continue
			}
			if prefix == "registry" && strings.HasPrefix(pkg, "registry/") {
				continue // registry/postgres has its own rules
			}
			checked++
			for _, dep := range fields[1:] {
				for _, ban := range bans {
					if dep == ban || strings.HasPrefix(dep, ban+"/") {
						t.Errorf("%s imports %s (directly or not): forbidden by the layout", pkg, dep)
					}
				}
			}
		}
	}
	if checked < 6 {
		t.Errorf("only %d packages checked: is the module layout what this test thinks?", checked)
	}
}

// Only cmd reads configuration and the environment, and ends the process.
func TestOnlyCmdExitsOrReadsTheEnvironment(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git" || strings.HasPrefix(path, "cmd") || strings.HasPrefix(path, "scripts") || strings.HasPrefix(path, "bench")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, call := range []string{"os.Exit(", "os.Getenv(", "os.LookupEnv(", "viper."} {
			if bytes.Contains(b, []byte(call)) && !strings.Contains(path, "pgtest") {
				t.Errorf("%s calls %s: only cmd may", path, strings.TrimSuffix(call, "("))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
