package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/vungtrong/vungtrong/registry"
)

// FileImporter imports an uploaded survey file; cmd wires it to the importers and the registry.
type FileImporter interface {
	ImportFile(ctx context.Context, req ImportRequest, progress func(ImportProgress)) (*registry.ImportReport, error)
}

// ImportRequest is an uploaded file and the options of its import (as `vungtrong import` has).
type ImportRequest struct {
	// Path is the uploaded file on disk; Filename its name on the user's machine.
	Path, Filename string
	Source         string
	DryRun         bool
	OnInvalid      string
	Province, SRS  string
	Encoding       string
	Map, Set       map[string]string
	// Layer is what the file holds: "plots" (the default) or "admin" (commune and province
	// boundaries).
	Layer string
}

// ImportProgress is how far an import has come.
type ImportProgress struct {
	Stage    string `json:"stage"`
	Features int    `json:"features"`
	Bytes    int64  `json:"bytes"`
	Size     int64  `json:"size"`
}

// importJob is one upload being imported, kept in memory for a day after it ends.
type importJob struct {
	ID       string                 `json:"id"`
	Filename string                 `json:"filename"`
	State    string                 `json:"state"` // running, done, failed
	Progress ImportProgress         `json:"progress"`
	Report   *registry.ImportReport `json:"report,omitempty"`
	Error    *errorJSON             `json:"error,omitempty"`
	Started  time.Time              `json:"started"`
	Ended    *time.Time             `json:"ended,omitempty"`
	owner    string
}

type errorJSON struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Details []registry.Detail `json:"details,omitempty"`
}

type importJobs struct {
	mu   sync.Mutex
	jobs map[string]*importJob
}

func (j *importJobs) add(job *importJob) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.jobs == nil {
		j.jobs = map[string]*importJob{}
	}
	for id, old := range j.jobs {
		if old.Ended != nil && time.Since(*old.Ended) > 24*time.Hour {
			delete(j.jobs, id)
		}
	}
	j.jobs[job.ID] = job
}

// snapshot returns a copy of job id, safe to encode.
func (j *importJobs) snapshot(id string) (importJob, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	job, ok := j.jobs[id]
	if !ok {
		return importJob{}, false
	}
	return *job, true
}

func (j *importJobs) update(job *importJob, fn func(*importJob)) {
	j.mu.Lock()
	defer j.mu.Unlock()
	fn(job)
}

// importFields are the form fields (or query parameters) an upload may carry.
var importFields = []string{"source", "dry_run", "on_invalid", "province", "srs", "encoding", "map", "set", "filename", "layer"}

// handleImportCreate receives a file (multipart/form-data with a "file" part, or the raw body
// with ?filename=) and starts importing it; the answer (202) names the job to poll.
func (s *Server) handleImportCreate(w http.ResponseWriter, r *http.Request) error {
	if s.svc.Importer == nil {
		return registry.Errorf(registry.EUNAVAILABLE, "imports are not available on this server")
	}
	tmp, err := os.CreateTemp("", "vungtrong-upload-*")
	if err != nil {
		return err
	}
	keep := false
	defer func() {
		if !keep {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	fields := map[string]string{}
	for _, k := range importFields {
		if v := r.URL.Query().Get(k); v != "" {
			fields[k] = v
		}
	}
	limit := s.cfg.MaxUploadBytes
	copyFile := func(src io.Reader) error {
		n, err := io.Copy(tmp, io.LimitReader(src, limit+1))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return registry.Errorf(registry.ETOOLARGE, "the file is larger than %d MB, the upload limit", limit>>20)
			}
			return registry.Errorf(registry.EMALFORMED, "the upload was interrupted: %v", err)
		}
		if n > limit {
			return registry.Errorf(registry.ETOOLARGE, "the file is larger than %d MB, the upload limit", limit>>20)
		}
		return nil
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	gotFile := false
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
				if gotFile {
					return registry.Errorf(registry.EINVALID, "one file per import: zip a Shapefile's .shp, .shx, .dbf and .prj together")
				}
				fields["filename"] = part.FileName()
				if err := copyFile(part); err != nil {
					return err
				}
				gotFile = true
				continue
			}
			b, err := io.ReadAll(io.LimitReader(part, 64<<10))
			if err != nil {
				return registry.Errorf(registry.EMALFORMED, "cannot read the form: %v", err)
			}
			fields[part.FormName()] = strings.TrimSpace(string(b))
		}
	} else {
		if err := copyFile(r.Body); err != nil {
			return err
		}
		gotFile = true
	}
	name := filepath.Base(fields["filename"])
	if !gotFile || name == "." || name == "" || name == "/" {
		return &registry.Error{Code: registry.EINVALID, Message: "send the file as the form's \"file\" part, or as the body with ?filename=NAME.zip (the name tells the format)",
			Details: []registry.Detail{{Field: "file", Message: "missing"}}}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// The format is told by the name: keep its extension on the temporary file.
	path := tmp.Name() + strings.ToLower(filepath.Ext(name))
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	keep = true
	req := ImportRequest{Path: path, Filename: name, Source: fields["source"], OnInvalid: fields["on_invalid"],
		Province: fields["province"], SRS: fields["srs"], Encoding: fields["encoding"], Layer: fields["layer"]}
	if req.Source == "" {
		req.Source = strings.TrimSuffix(name, filepath.Ext(name))
	}
	if v := fields["dry_run"]; v != "" {
		if req.DryRun, err = strconv.ParseBool(v); err != nil {
			os.Remove(path)
			return &registry.Error{Code: registry.EMALFORMED, Message: "dry_run must be true or false", Details: []registry.Detail{{Field: "dry_run", Message: "not a boolean"}}}
		}
	}
	for _, kv := range []struct {
		field string
		dst   *map[string]string
	}{{"map", &req.Map}, {"set", &req.Set}} {
		if v := fields[kv.field]; v != "" {
			*kv.dst = map[string]string{}
			for _, pair := range strings.Split(v, ",") {
				k, val, ok := strings.Cut(pair, "=")
				if !ok {
					os.Remove(path)
					return &registry.Error{Code: registry.EMALFORMED, Message: kv.field + " takes field=value pairs separated by commas",
						Details: []registry.Detail{{Field: kv.field, Message: pair}}}
				}
				(*kv.dst)[strings.TrimSpace(k)] = strings.TrimSpace(val)
			}
		}
	}
	actor, _ := registry.ActorFromContext(r.Context())
	id := make([]byte, 9)
	rand.Read(id)
	job := &importJob{ID: hex.EncodeToString(id), Filename: name, State: "running", Started: time.Now(), owner: actor.String()}
	s.imports.add(job)
	ctx := context.WithoutCancel(r.Context()) // the import goes on when the uploader closes the page
	go func() {
		defer os.Remove(path)
		rep, err := s.svc.Importer.ImportFile(ctx, req, func(p ImportProgress) {
			s.imports.update(job, func(j *importJob) { j.Progress = p })
		})
		s.imports.update(job, func(j *importJob) {
			now := time.Now()
			j.Ended, j.Report, j.State = &now, rep, "done"
			if err != nil {
				j.State = "failed"
				j.Error = &errorJSON{Code: registry.ErrorCode(err), Message: registry.ErrorMessage(err), Details: registry.ErrorDetails(err)}
				if j.Error.Code == registry.EINTERNAL {
					s.log.Error("import failed", "job", j.ID, "err", err)
					j.Error.Message = "the import failed on the server; the administrator can find job " + j.ID + " in the log"
				}
			}
		})
	}()
	w.Header().Set("Location", "/api/v1/imports/"+job.ID)
	snap, _ := s.imports.snapshot(job.ID)
	writeJSON(w, http.StatusAccepted, snap)
	return nil
}

// handleImportGet reports an import's progress, and its report when it has ended. Only whoever
// started it (and admins) may see it.
func (s *Server) handleImportGet(w http.ResponseWriter, r *http.Request) error {
	job, ok := s.imports.snapshot(chi.URLParam(r, "id"))
	actor, _ := registry.ActorFromContext(r.Context())
	if !ok || (actor.Role != registry.RoleAdmin && job.owner != actor.String()) {
		return registry.Errorf(registry.ENOTFOUND, "no import %s of yours", chi.URLParam(r, "id"))
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, job)
	return nil
}
