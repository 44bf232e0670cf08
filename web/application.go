package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/vungtrong/vungtrong/registry"
)

// The code service's handlers: applications (hồ sơ) through their procedure, attachments,
// inspections with photos, decisions, and the work queues.

func (s *Server) applications() (registry.ApplicationService, error) {
	if s.svc.Applications == nil {
		return nil, registry.Errorf(registry.EUNAVAILABLE, "applications are not available on this server")
	}
	return s.svc.Applications, nil
}

// handleApplicationCreate answers "POST /api/v1/applications" (Form 01): 201 with the
// application as GET answers it.
func (s *Server) handleApplicationCreate(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.applications()
	if err != nil {
		return err
	}
	var in registry.ApplicationRequest
	if err := s.readJSONObject(w, r, &in); err != nil {
		return err
	}
	id, err := svc.CreateApplication(r.Context(), in)
	if err != nil {
		return err
	}
	d, err := svc.Application(r.Context(), id)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/applications/"+strconv.FormatInt(id, 10))
	writeJSON(w, http.StatusCreated, d)
	return nil
}

// handleApplicationList answers "GET /api/v1/applications?status=a,b".
func (s *Server) handleApplicationList(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.applications()
	if err != nil {
		return err
	}
	var statuses []string
	if v := r.URL.Query().Get("status"); v != "" {
		statuses = strings.Split(v, ",")
	}
	list, err := svc.Applications(r.Context(), statuses)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"applications": list})
	return nil
}

// handleApplicationGet answers "GET /api/v1/applications/{id}": the application, what the
// caller may move it to, its attachments, inspections and steps.
func (s *Server) handleApplicationGet(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.applications()
	if err != nil {
		return err
	}
	id, err := pathID(r, "application")
	if err != nil {
		return err
	}
	d, err := svc.Application(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// handleApplicationPatch answers "PATCH /api/v1/applications/{id}" with any Form 01 fields
// (a draft, or an application returned for changes).
func (s *Server) handleApplicationPatch(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.applications()
	if err != nil {
		return err
	}
	id, err := pathID(r, "application")
	if err != nil {
		return err
	}
	var in registry.ApplicationForm
	if err := s.readJSONObject(w, r, &in); err != nil {
		return err
	}
	if err := svc.UpdateApplication(r.Context(), id, in); err != nil {
		return err
	}
	return s.handleApplicationGet(w, r)
}

// handleApplicationStatus answers "POST /api/v1/applications/{id}/status" {"status", "note",
// "on", "inspectors"}.
func (s *Server) handleApplicationStatus(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.applications()
	if err != nil {
		return err
	}
	id, err := pathID(r, "application")
	if err != nil {
		return err
	}
	var in struct {
		Status     string   `json:"status"`
		Note       string   `json:"note"`
		On         string   `json:"on"`
		Inspectors []string `json:"inspectors"`
	}
	if err := s.readJSONObject(w, r, &in); err != nil {
		return err
	}
	if in.Status == "" {
		return fieldError("status", "say which status the application moves to (submitted, under_review, returned, inspection_scheduled, withdrawn)")
	}
	m := registry.AppMove{To: in.Status, Note: in.Note, Inspectors: in.Inspectors}
	if m.On, err = parseDay("on", in.On); err != nil {
		return err
	}
	if err := svc.MoveApplication(r.Context(), id, m); err != nil {
		return err
	}
	return s.handleApplicationGet(w, r)
}

// attachmentBodyLimit caps a request carrying one attachment: the file and its form.
const attachmentBodyLimit = registry.MaxAttachmentBytes + 1<<20

// handleAttachmentCreate answers "POST /api/v1/applications/{id}/attachments", a
// multipart/form-data form with "kind" and "file".
func (s *Server) handleAttachmentCreate(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.applications()
	if err != nil {
		return err
	}
	id, err := pathID(r, "application")
	if err != nil {
		return err
	}
	at := registry.Attachment{}
	got := false
	err = readForm(w, r, attachmentBodyLimit, func(p *multipart.Part) error {
		switch p.FormName() {
		case "kind":
			b, err := io.ReadAll(io.LimitReader(p, 100))
			at.Kind = strings.TrimSpace(string(b))
			return err
		case "file":
			got = true
			at.Filename = p.FileName()
			at.Data, err = io.ReadAll(io.LimitReader(p, registry.MaxAttachmentBytes+1))
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !got {
		return fieldError("file", "send the file as the form's \"file\" part (multipart/form-data), with its \"kind\": diary, certificate, commitment or other")
	}
	info, err := svc.AddAttachment(r.Context(), id, at)
	if err != nil {
		drain(r)
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/applications/%d/attachments/%d", id, info.ID))
	writeJSON(w, http.StatusCreated, info)
	return nil
}

// drain reads what is left of a refused upload, so that the client reads the answer.
func drain(r *http.Request) { _, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 64<<20)) }

// readForm reads a multipart/form-data body part by part.
func readForm(w http.ResponseWriter, r *http.Request, limit int64, each func(*multipart.Part) error) error {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return registry.Errorf(registry.EUNSUPPORTED, "send this request as multipart/form-data")
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		return registry.Errorf(registry.EMALFORMED, "cannot read the form: %v", err)
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err == nil {
			err = each(p)
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &registry.Error{Code: registry.ETOOLARGE, Message: fmt.Sprintf("the request is larger than %d MB: send one file at a time, each at most %d MB", limit>>20, registry.MaxAttachmentBytes>>20),
				Details: []registry.Detail{{Field: "file", Message: "over the limit"}}}
		}
		if err != nil {
			return registry.Errorf(registry.EMALFORMED, "cannot read the form: %v", err)
		}
	}
}

func attachmentIDs(r *http.Request) (int64, int64, error) {
	id, err := pathID(r, "application")
	if err != nil {
		return 0, 0, err
	}
	aid, err := strconv.ParseInt(chi.URLParam(r, "attachment"), 10, 64)
	if err != nil || aid <= 0 {
		return 0, 0, registry.Errorf(registry.ENOTFOUND, "attachment %q not found: ids are positive numbers", chi.URLParam(r, "attachment"))
	}
	return id, aid, nil
}

// handleAttachmentGet answers "GET /api/v1/applications/{id}/attachments/{attachment}": the file.
func (s *Server) handleAttachmentGet(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.applications()
	if err != nil {
		return err
	}
	id, aid, err := attachmentIDs(r)
	if err != nil {
		return err
	}
	info, data, err := svc.Attachment(r.Context(), id, aid)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", info.ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": info.Filename}))
	w.Header().Set("Cache-Control", "private, no-store")
	_, _ = w.Write(data)
	return nil
}

// handleAttachmentDelete answers "DELETE /api/v1/applications/{id}/attachments/{attachment}".
func (s *Server) handleAttachmentDelete(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.applications()
	if err != nil {
		return err
	}
	id, aid, err := attachmentIDs(r)
	if err != nil {
		return err
	}
	if err := svc.DeleteAttachment(r.Context(), id, aid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// inspectionJSON is an inspection as the officer sends it.
type inspectionJSON struct {
	On         string          `json:"on"`
	Inspectors []string        `json:"inspectors"`
	Checklist  json.RawMessage `json:"checklist"`
	Conclusion string          `json:"conclusion"`
	Reasons    string          `json:"reasons"`
}

// photoJSON is where and when a photo was taken.
type photoJSON struct {
	TakenAt   *time.Time `json:"taken_at"`
	Lon       *float64   `json:"lon"`
	Lat       *float64   `json:"lat"`
	AccuracyM *float64   `json:"accuracy_m"`
}

// handleInspectionCreate answers "POST /api/v1/applications/{id}/inspection": JSON, or a
// multipart/form-data form with the "inspection" (JSON) and its photos (readRecord), all
// written at once.
func (s *Server) handleInspectionCreate(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.applications()
	if err != nil {
		return err
	}
	id, err := pathID(r, "application")
	if err != nil {
		return err
	}
	var in inspectionJSON
	photos, err := s.readRecord(w, r, "inspection", &in)
	if err != nil {
		return err
	}
	rec := registry.InspectionRecord{Inspectors: in.Inspectors, Checklist: in.Checklist, Conclusion: in.Conclusion, Reasons: in.Reasons}
	on, err := parseDay("on", in.On)
	if err != nil {
		return err
	}
	if on != nil {
		rec.On = *on
	}
	rec.Photos = photos
	iid, err := svc.RecordInspection(r.Context(), id, rec)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": iid, "application": id, "photos": len(photos)})
	return nil
}

// readRecord reads an inspection or a visit: JSON into v, or a multipart/form-data form with
// the record as JSON in its part named part, the "photo" files in order and "photos" (JSON:
// each photo's taken_at, lon, lat, accuracy_m).
func (s *Server) readRecord(w http.ResponseWriter, r *http.Request, part string, v any) ([]registry.Photo, error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		return nil, s.readJSONObject(w, r, v)
	}
	var metas []photoJSON
	var files [][]byte
	got := false
	err := readForm(w, r, int64(registry.MaxPhotos)*registry.MaxPhotoBytes/2+1<<20, func(p *multipart.Part) error {
		switch p.FormName() {
		case part:
			got = true
			b, err := io.ReadAll(io.LimitReader(p, 256<<10))
			if err != nil {
				return err
			}
			if err := json.Unmarshal(b, v); err != nil {
				return fieldError(part, "the %s part is not the JSON this endpoint takes: %v", part, err)
			}
		case "photos":
			b, err := io.ReadAll(io.LimitReader(p, 256<<10))
			if err != nil {
				return err
			}
			if err := json.Unmarshal(b, &metas); err != nil {
				return fieldError("photos", "photos is a JSON array of {\"taken_at\", \"lon\", \"lat\", \"accuracy_m\"}, one per photo in order: %v", err)
			}
		case "photo":
			b, err := io.ReadAll(io.LimitReader(p, registry.MaxPhotoBytes+1))
			if err != nil {
				return err
			}
			files = append(files, b)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !got {
		return nil, fieldError(part, "send the %s as the form's %q part (JSON)", part, part)
	}
	if len(metas) != len(files) {
		return nil, fieldError("photos", "%d photos and %d descriptions in \"photos\": give one {\"taken_at\", \"lon\", \"lat\"} per photo, in order", len(files), len(metas))
	}
	photos := make([]registry.Photo, len(files))
	for i, b := range files {
		photos[i] = registry.Photo{Data: b, TakenAt: metas[i].TakenAt, Lon: metas[i].Lon, Lat: metas[i].Lat, AccuracyM: metas[i].AccuracyM}
	}
	return photos, nil
}

// handleInspectionPhoto answers "GET /api/v1/inspections/{id}/photos/{photo}".
func (s *Server) handleInspectionPhoto(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.applications()
	if err != nil {
		return err
	}
	id, err := pathID(r, "inspection")
	if err != nil {
		return err
	}
	pid, err := strconv.ParseInt(chi.URLParam(r, "photo"), 10, 64)
	if err != nil || pid <= 0 {
		return registry.Errorf(registry.ENOTFOUND, "photo %q not found: ids are positive numbers", chi.URLParam(r, "photo"))
	}
	ct, data, err := svc.InspectionPhoto(r.Context(), id, pid)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "private, max-age=86400")
	_, _ = w.Write(data)
	return nil
}

// handleDecision answers "POST /api/v1/applications/{id}/decision" {"decision": "approve",
// "document", "authority", "valid_from", "valid_to"} or {"decision": "reject", "reasons": [...]}.
func (s *Server) handleDecision(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.applications()
	if err != nil {
		return err
	}
	id, err := pathID(r, "application")
	if err != nil {
		return err
	}
	var in struct {
		Decision  string   `json:"decision"`
		Document  string   `json:"document"`
		Authority string   `json:"authority"`
		ValidFrom string   `json:"valid_from"`
		ValidTo   string   `json:"valid_to"`
		Reasons   []string `json:"reasons"`
	}
	if err := s.readJSONObject(w, r, &in); err != nil {
		return err
	}
	d := registry.Decision{Document: in.Document, Authority: in.Authority, Reasons: in.Reasons}
	switch in.Decision {
	case "approve":
		d.Approve = true
	case "reject":
	default:
		return fieldError("decision", "the decision is approve or reject, not %q", in.Decision)
	}
	if d.ValidFrom, err = parseDay("valid_from", in.ValidFrom); err != nil {
		return err
	}
	if d.ValidTo, err = parseDay("valid_to", in.ValidTo); err != nil {
		return err
	}
	code, err := svc.Decide(r.Context(), id, d)
	if err != nil {
		return err
	}
	detail, err := svc.Application(r.Context(), id)
	if err != nil {
		return err
	}
	status := http.StatusOK
	resp := map[string]any{"application": detail.Application}
	if code != nil {
		status = http.StatusCreated
		resp["code"] = code
		resp["valid_today"] = validToday(*code)
		w.Header().Set("Location", "/api/v1/codes/"+code.Code)
	}
	writeJSON(w, status, resp)
	return nil
}

// handleInbox answers "GET /api/v1/inbox?season=": an officer's work in their jurisdiction.
func (s *Server) handleInbox(w http.ResponseWriter, r *http.Request) error {
	if s.svc.WorkQueues == nil {
		return registry.Errorf(registry.EUNAVAILABLE, "work queues are not available on this server")
	}
	in, err := s.svc.WorkQueues.Inbox(r.Context(), r.URL.Query().Get("season"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

// handleOrganisation answers "GET /api/v1/organisation?season=": a registrant's page.
func (s *Server) handleOrganisation(w http.ResponseWriter, r *http.Request) error {
	if s.svc.WorkQueues == nil {
		return registry.Errorf(registry.EUNAVAILABLE, "work queues are not available on this server")
	}
	o, err := s.svc.WorkQueues.Organisation(r.Context(), r.URL.Query().Get("season"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

// handleMissingReports answers "GET /api/v1/seasonal-reports/missing?season=".
func (s *Server) handleMissingReports(w http.ResponseWriter, r *http.Request) error {
	if s.svc.WorkQueues == nil {
		return registry.Errorf(registry.EUNAVAILABLE, "work queues are not available on this server")
	}
	m, err := s.svc.WorkQueues.MissingReports(r.Context(), r.URL.Query().Get("season"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"missing": m})
	return nil
}
