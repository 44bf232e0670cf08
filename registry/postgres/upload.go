package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/vungtrong/vungtrong/registry"
)

// UploadStore keeps uploaded files in PostgreSQL, in chunks, so that every server and every
// backup has them.
type UploadStore struct {
	db *DB
	// Purpose is what the uploads are for ("import", "attachment").
	Purpose string
}

var _ registry.UploadStore = (*UploadStore)(nil)

// NewUploadStore returns a store of uploads for purpose ("import" or "attachment").
func NewUploadStore(db *DB, purpose string) *UploadStore {
	return &UploadStore{db: db, Purpose: purpose}
}

// uploadChunk is the size of one stored piece of an upload.
const uploadChunk = 1 << 20

// StoreUpload implements registry.UploadStore. The whole upload is one transaction: a file
// whose sending fails halfway leaves nothing behind.
func (s *UploadStore) StoreUpload(ctx context.Context, filename string, r io.Reader, limit int64) (*registry.Upload, error) {
	up := &registry.Upload{Filename: filename}
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO upload (purpose, filename, created_by) VALUES ($1, $2, $3) RETURNING id`,
			s.Purpose, filename, actorName(ctx)).Scan(&up.ID); err != nil {
			return mapError(err)
		}
		h := sha256.New()
		buf := make([]byte, uploadChunk)
		src := io.LimitReader(r, limit+1)
		for n := 0; ; n++ {
			k, err := io.ReadFull(src, buf)
			if k > 0 {
				up.Size += int64(k)
				if up.Size > limit {
					return registry.Errorf(registry.ETOOLARGE, "the file is larger than %d MB, the upload limit", limit>>20)
				}
				h.Write(buf[:k])
				if _, err := tx.Exec(ctx, `INSERT INTO upload_chunk (upload_id, n, data) VALUES ($1, $2, $3)`, up.ID, n, buf[:k]); err != nil {
					return err
				}
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				break
			}
			if err != nil {
				var re *registry.Error
				if errors.As(err, &re) {
					return err
				}
				return registry.Errorf(registry.EMALFORMED, "the upload was interrupted: %v", err)
			}
		}
		up.SHA256 = h.Sum(nil)
		_, err := tx.Exec(ctx, `UPDATE upload SET size = $2, sha256 = $3 WHERE id = $1`, up.ID, up.Size, up.SHA256)
		return err
	})
	if err != nil {
		return nil, err
	}
	return up, nil
}

// DeleteUpload implements registry.UploadStore.
func (s *UploadStore) DeleteUpload(ctx context.Context, id int64) error {
	_, err := s.db.Pool.Exec(context.WithoutCancel(ctx), `DELETE FROM upload WHERE id = $1`, id)
	return err
}

// writeUpload copies an upload's bytes to w, chunk by chunk.
func writeUpload(ctx context.Context, q querier, id int64, w io.Writer) error {
	rows, err := q.Query(ctx, `SELECT data FROM upload_chunk WHERE upload_id = $1 ORDER BY n`, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return rows.Err()
}
