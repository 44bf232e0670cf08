// Command floorserver is the least a Go tile server can do: one read of the request and one
// write of the answer per tile, over plain TCP, with the tile from the same source
// (tiles/postgis) the real server uses. It has no router, no net/http, no cache and no
// checks, and is not for use: it measures how much of the gap between the server and the raw
// SQL in bench/tiles is the HTTP layer's, and how much is the extra process hop itself
// (the goroutine wake-ups and the socket round trip on a machine whose cores PostgreSQL
// keeps busy).
//
//	go build -o /tmp/floorserver ./bench/tiles/floorserver
//	go run ./bench/tiles -zooms 14 -skip-baseline -binary /tmp/floorserver
package main

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/vungtrong/vungtrong/tiles"
	"github.com/vungtrong/vungtrong/tiles/postgis"
)

func main() {
	ctx := context.Background()
	conns, _ := strconv.Atoi(os.Getenv("VUNGTRONG_TILES_MAX_CONNS"))
	src, err := postgis.Open(ctx, os.Getenv("VUNGTRONG_DATABASE_URL"), postgis.Options{MaxConns: max(conns, 1)})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", os.Getenv("VUNGTRONG_HTTP_ADDR"))
	if err != nil {
		log.Fatal(err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serve(ctx, src, c)
	}
}

// serve answers the requests of one keep-alive connection in turn.
func serve(ctx context.Context, src *postgis.Source, c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	out := make([]byte, 0, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		for { // the headers are not needed
			h, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(h) <= 2 {
				break
			}
		}
		status, body := answer(ctx, src, line)
		out = fmt.Appendf(out[:0], "HTTP/1.1 %s\r\nContent-Type: application/vnd.mapbox-vector-tile\r\nContent-Length: %d\r\n\r\n", status, len(body))
		out = append(out, body...)
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// answer renders the tile a request line names: "GET /tiles/{layer}/{z}/{x}/{y}.mvt HTTP/1.1".
// Anything else (the bench's readiness probe) gets an empty 200.
func answer(ctx context.Context, src *postgis.Source, line string) (string, []byte) {
	f := strings.Fields(line)
	if len(f) < 2 {
		return "400 Bad Request", nil
	}
	rest, ok := strings.CutPrefix(f[1], "/tiles/")
	if !ok {
		return "200 OK", nil
	}
	parts := strings.Split(strings.TrimSuffix(rest, ".mvt"), "/")
	if len(parts) != 4 {
		return "404 Not Found", nil
	}
	id, err := tiles.Parse(parts[1], parts[2], parts[3])
	if err != nil {
		return "400 Bad Request", nil
	}
	b, err := src.Tile(ctx, parts[0], id)
	if err != nil {
		return "500 Internal Server Error", nil
	}
	return "200 OK", b
}
