package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/vungtrong/vungtrong/registry"
)

// eudrDownloadTimeout bounds the download of an export's zip, which the request timeout does not
// (a province's zip takes longer than a request may on a slow line).
const eudrDownloadTimeout = time.Hour

// handleEUDRExportCreate answers "POST /api/v1/eudr/exports" with a JSON body naming one
// selection ({"cooperative": 12}, {"consignment": "C-7K2M9Q4X"}, {"commune": "24490"}…) and
// options ("crop", "points", "max_mb", "activity"): it queues the export; the answer (202)
// names it, to follow at its Location.
func (s *Server) handleEUDRExportCreate(w http.ResponseWriter, r *http.Request) error {
	if s.svc.EUDRExports == nil {
		return registry.Errorf(registry.EUNAVAILABLE, "EUDR exports are not available on this server")
	}
	if ct := r.Header.Get("Content-Type"); !isJSONType(ct) {
		return registry.Errorf(registry.EUNSUPPORTED, "send the export's selection as application/json, e.g. {\"cooperative\": 12}")
	}
	body, err := readBody(w, r, 64<<10, contentTypeJSON)
	if err != nil {
		return err
	}
	var req registry.EUDRExportRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return registry.Errorf(registry.EINVALID, "the body does not have the fields this endpoint takes (consignment, producer, cooperative, growing_area, commune, province, crop, points, max_mb, activity): %v", err)
	}
	job, err := s.svc.EUDRExports.StartEUDRExport(r.Context(), req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/eudr/exports/"+job.ID)
	writeJSON(w, http.StatusAccepted, job)
	return nil
}

// handleEUDRExportGet answers "GET /api/v1/eudr/exports/{id}": an export's progress, and once
// done its summary and file. Only whoever started it (and admins) may see it, from any server.
func (s *Server) handleEUDRExportGet(w http.ResponseWriter, r *http.Request) error {
	if s.svc.EUDRExports == nil {
		return registry.Errorf(registry.EUNAVAILABLE, "EUDR exports are not available on this server")
	}
	job, err := s.svc.EUDRExports.FindEUDRExport(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, job)
	return nil
}

// handleEUDRExportFile answers "GET /api/v1/eudr/exports/{id}/file": the zip of a done export.
func (s *Server) handleEUDRExportFile(w http.ResponseWriter, r *http.Request) error {
	if s.svc.EUDRExports == nil {
		return registry.Errorf(registry.EUNAVAILABLE, "EUDR exports are not available on this server")
	}
	id := chi.URLParam(r, "id")
	job, err := s.svc.EUDRExports.FindEUDRExport(r.Context(), id)
	if err != nil {
		return err
	}
	if job.State != registry.ImportDone || job.File == nil {
		return registry.Errorf(registry.ECONFLICT, "export %s is %s: its file is ready once it is done (GET /api/v1/eudr/exports/%s)", id, job.State, id)
	}
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": job.File.Name}))
	h.Set("Content-Length", strconv.FormatInt(job.File.Size, 10))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	// The zip streams from the database for as long as the client reads: past the request
	// timeout, until it goes away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), eudrDownloadTimeout)
	defer cancel()
	if err := s.svc.EUDRExports.WriteEUDRExportFile(ctx, id, w); err != nil && !errors.Is(err, context.Canceled) {
		// The headers are sent: the client sees a short body.
		s.log.Warn("sending an EUDR export's file", "request_id", registry.RequestIDFromContext(r.Context()), "export", id, "err", err)
	}
	return nil
}
