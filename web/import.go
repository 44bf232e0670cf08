package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/vungtrong/vungtrong/registry"
)

// importFields are the form fields (or query parameters) an upload may carry.
var importFields = []string{"source", "dry_run", "on_invalid", "province", "srs", "encoding", "map", "set", "filename", "layer"}

// handleImportCreate receives a file (multipart/form-data with a "file" part, or the raw body
// with ?filename=), stores it in the database and queues its import; the answer (202) names the
// import to poll, which any server can show.
func (s *Server) handleImportCreate(w http.ResponseWriter, r *http.Request) error {
	if s.svc.Imports == nil || s.svc.Uploads == nil {
		return registry.Errorf(registry.EUNAVAILABLE, "imports are not available on this server")
	}
	fields := map[string]string{}
	for _, k := range importFields {
		if v := r.URL.Query().Get(k); v != "" {
			fields[k] = v
		}
	}
	limit := s.cfg.MaxUploadBytes
	var up *registry.Upload
	store := func(name string, src io.Reader) error {
		if why := badText(name); why != "" {
			return &registry.Error{Code: registry.EMALFORMED, Message: "the file's name " + why, Details: []registry.Detail{{Field: "file", Message: why}}}
		}
		name = filepath.Base(name)
		if name == "." || name == "" || name == "/" {
			return &registry.Error{Code: registry.EINVALID, Message: "the file has no name: send it as the form's \"file\" part, or as the body with ?filename=NAME.zip (the name tells the format)",
				Details: []registry.Detail{{Field: "file", Message: "no name"}}}
		}
		var err error
		up, err = s.svc.Uploads.StoreUpload(r.Context(), name, maxBytesAsTooLarge{src, limit}, limit)
		return err
	}
	// The upload is forgotten unless an import takes it.
	started := false
	defer func() {
		if up != nil && !started {
			_ = s.svc.Uploads.DeleteUpload(r.Context(), up.ID)
		}
	}()
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			return registry.Errorf(registry.EMALFORMED, "cannot read the form: %v", err)
		}
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return registry.Errorf(registry.EMALFORMED, "cannot read the form: %v", err)
			}
			if part.FormName() == "file" {
				if up != nil {
					return registry.Errorf(registry.EINVALID, "one file per import: zip a Shapefile's .shp, .shx, .dbf and .prj together")
				}
				if err := store(part.FileName(), part); err != nil {
					return err
				}
				continue
			}
			b, err := io.ReadAll(io.LimitReader(part, 64<<10))
			if err != nil {
				return registry.Errorf(registry.EMALFORMED, "cannot read the form: %v", err)
			}
			fields[part.FormName()] = strings.TrimSpace(string(b))
		}
	} else if err := store(fields["filename"], r.Body); err != nil {
		return err
	}
	if up == nil {
		return &registry.Error{Code: registry.EINVALID, Message: "send the file as the form's \"file\" part, or as the body with ?filename=NAME.zip (the name tells the format)",
			Details: []registry.Detail{{Field: "file", Message: "missing"}}}
	}
	req, err := importRequest(up, fields)
	if err != nil {
		return err
	}
	job, err := s.svc.Imports.StartImport(r.Context(), req)
	if err != nil {
		return err
	}
	started = true
	w.Header().Set("Location", "/api/v1/imports/"+job.ID)
	writeJSON(w, http.StatusAccepted, job)
	return nil
}

// importRequest reads an import's options from the form's fields.
func importRequest(up *registry.Upload, fields map[string]string) (registry.ImportRequest, error) {
	for k, v := range fields {
		if why := badText(v); why != "" {
			return registry.ImportRequest{}, &registry.Error{Code: registry.EMALFORMED, Message: k + " " + why, Details: []registry.Detail{{Field: k, Message: why}}}
		}
	}
	req := registry.ImportRequest{UploadID: up.ID, Filename: up.Filename, Source: fields["source"], OnInvalid: fields["on_invalid"],
		Province: fields["province"], SRS: fields["srs"], Encoding: fields["encoding"], Layer: fields["layer"]}
	if req.Source == "" {
		req.Source = strings.TrimSuffix(up.Filename, filepath.Ext(up.Filename))
	}
	if v := fields["dry_run"]; v != "" {
		var err error
		if req.DryRun, err = strconv.ParseBool(v); err != nil {
			return req, &registry.Error{Code: registry.EMALFORMED, Message: "dry_run must be true or false", Details: []registry.Detail{{Field: "dry_run", Message: "not a boolean"}}}
		}
	}
	for _, kv := range []struct {
		field string
		dst   *map[string]string
	}{{"map", &req.Map}, {"set", &req.Set}} {
		v := fields[kv.field]
		if v == "" {
			continue
		}
		*kv.dst = map[string]string{}
		for _, pair := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(pair, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return req, &registry.Error{Code: registry.EMALFORMED, Message: kv.field + " takes field=value pairs separated by commas, e.g. crop=cà phê",
					Details: []registry.Detail{{Field: kv.field, Message: pair}}}
			}
			(*kv.dst)[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
	}
	return req, nil
}

// maxBytesAsTooLarge turns the body's size limit into ETOOLARGE.
type maxBytesAsTooLarge struct {
	r     io.Reader
	limit int64
}

func (m maxBytesAsTooLarge) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return n, registry.Errorf(registry.ETOOLARGE, "the file is larger than %d MB, the upload limit", m.limit>>20)
	}
	return n, err
}

// handleImportGet reports an import's progress, and its report when it has ended. Only whoever
// started it (and admins) may see it, from any server.
func (s *Server) handleImportGet(w http.ResponseWriter, r *http.Request) error {
	if s.svc.Imports == nil {
		return registry.Errorf(registry.EUNAVAILABLE, "imports are not available on this server")
	}
	job, err := s.svc.Imports.FindImport(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, job)
	return nil
}

// handleImportCommit answers "POST /api/v1/imports/{id}/commit": import for real the file of a
// dry run whose report the user has read (the same file, the same options).
func (s *Server) handleImportCommit(w http.ResponseWriter, r *http.Request) error {
	if s.svc.Imports == nil {
		return registry.Errorf(registry.EUNAVAILABLE, "imports are not available on this server")
	}
	job, err := s.svc.Imports.CommitImport(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/imports/"+job.ID)
	writeJSON(w, http.StatusAccepted, job)
	return nil
}
