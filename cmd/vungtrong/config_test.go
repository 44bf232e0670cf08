package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func loadWith(t *testing.T, env map[string]string, file string, flags ...string) (Config, error) {
	t.Helper()
	for _, k := range configKeys {
		t.Setenv(k.EnvName(), "") // isolate from the machine's environment
		os.Unsetenv(k.EnvName())
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.String("http-addr", "", "")
	fs.String("data-dir", "", "")
	fs.String("database-url", "", "")
	fs.String("log-level", "", "")
	if err := fs.Parse(flags); err != nil {
		t.Fatal(err)
	}
	path := ""
	if file != "" {
		path = filepath.Join(t.TempDir(), "vungtrong.yaml")
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return loadConfig(newViper(fs), path)
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := loadWith(t, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Addr != ":8080" || cfg.DataDir != "./var" || cfg.Database.URL != "" {
		t.Errorf("defaults: addr %q data %q url %q", cfg.HTTP.Addr, cfg.DataDir, cfg.Database.URL)
	}
	if cfg.HTTP.ShutdownTimeout != 10*time.Second || cfg.Geometry.MaxVertices != 10000 || cfg.API.MaxPageSize != 1000 {
		t.Errorf("defaults: %+v", cfg)
	}
	// Every key's documented default must itself be valid.
	for _, k := range configKeys {
		var c Config
		if err := k.set(&c, k.def); err != nil {
			t.Errorf("default of %s (%q) is refused: %v", k.name, k.def, err)
		}
	}
}

func TestConfigSources(t *testing.T) {
	file := "http:\n  addr: \"127.0.0.1:9000\"\ndata_dir: /srv/file\ngeometry:\n  max_area_ha: 50\n"
	tests := []struct {
		name     string
		env      map[string]string
		file     string
		flags    []string
		wantAddr string
		wantDir  string
		wantURL  string
	}{
		{"env", map[string]string{"VUNGTRONG_HTTP_ADDR": ":9090", "VUNGTRONG_DATA_DIR": "/srv/vt", "VUNGTRONG_DATABASE_URL": "postgres://u@h/db"}, "", nil, ":9090", "/srv/vt", "postgres://u@h/db"},
		{"file", nil, file, nil, "127.0.0.1:9000", "/srv/file", ""},
		{"env beats file", map[string]string{"VUNGTRONG_HTTP_ADDR": ":9091"}, file, nil, ":9091", "/srv/file", ""},
		{"flag beats env", map[string]string{"VUNGTRONG_HTTP_ADDR": ":9091"}, file, []string{"--http-addr=:9092", "--data-dir=/x"}, ":9092", "/x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadWith(t, tt.env, tt.file, tt.flags...)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.HTTP.Addr != tt.wantAddr || cfg.DataDir != tt.wantDir || cfg.Database.URL != tt.wantURL {
				t.Errorf("got addr %q dir %q url %q, want %q %q %q", cfg.HTTP.Addr, cfg.DataDir, cfg.Database.URL, tt.wantAddr, tt.wantDir, tt.wantURL)
			}
		})
	}
}

func TestConfigBadValuesNameTheKey(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		file string
		want []string
	}{
		{"addr", map[string]string{"VUNGTRONG_HTTP_ADDR": "8080"}, "", []string{"http.addr", "VUNGTRONG_HTTP_ADDR", `"8080"`, "host:port"}},
		{"url", map[string]string{"VUNGTRONG_DATABASE_URL": "mysql://x"}, "", []string{"database.url", "postgres://"}},
		{"empty data dir", map[string]string{"VUNGTRONG_DATA_DIR": " "}, "", []string{"data_dir", "a folder path"}},
		{"log level", map[string]string{"VUNGTRONG_LOG_LEVEL": "loud"}, "", []string{"log.level", "debug, info, warn or error"}},
		{"number in file", nil, "geometry:\n  max_vertices: lots\n", []string{"geometry.max_vertices", `"lots"`, "whole number"}},
		{"two bad keys at once", map[string]string{"VUNGTRONG_API_PAGE_SIZE": "0", "VUNGTRONG_LOG_FORMAT": "xml"}, "", []string{"api.page_size", "log.format", "text or json"}},
		{"between keys", map[string]string{"VUNGTRONG_GEOMETRY_MIN_AREA_HA": "10", "VUNGTRONG_GEOMETRY_MAX_AREA_HA": "5"}, "", []string{"geometry.min_area_ha (10) is above geometry.max_area_ha (5)"}},
		{"unknown key in file", nil, "http:\n  adr: \":1\"\n", []string{"unknown key http.adr"}},
		{"province", map[string]string{"VUNGTRONG_REGISTRY_DEFAULT_PROVINCE": "Đắk Lắk"}, "", []string{"registry.default_province", "2-digit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadWith(t, tt.env, tt.file)
			if err == nil {
				t.Fatal("bad configuration accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
