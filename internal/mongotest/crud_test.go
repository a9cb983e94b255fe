package mongotest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// seed is the starting content of every CRUD case.
var seed = []any{
	bson.D{{Key: "_id", Value: 1}, {Key: "name", Value: "a"}, {Key: "n", Value: 10}, {Key: "tags", Value: bson.A{"x", "y"}}},
	bson.D{{Key: "_id", Value: 2}, {Key: "name", Value: "b"}, {Key: "n", Value: 20}},
	bson.D{{Key: "_id", Value: 3}, {Key: "name", Value: "c"}, {Key: "n", Value: 30}, {Key: "meta", Value: bson.D{{Key: "k", Value: "v"}}}},
}

// contents returns the collection's documents (natural order) as extended JSON.
func contents(ctx context.Context, t *testing.T, c *mongo.Collection) string {
	t.Helper()
	cur, err := c.Find(ctx, bson.D{})
	if err != nil {
		t.Fatalf("find all: %v", err)
	}
	var docs []bson.D
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatalf("read all: %v", err)
	}
	return docString(docs)
}

func TestCRUD(t *testing.T) {
	srv := startServer(t)
	client := connect(t, srv)
	tests := []struct {
		name string
		op   func(ctx context.Context, c *mongo.Collection) (any, error)
		// want is the operation's result as extended JSON; wantDocs the
		// collection afterwards ("" when unchanged from seed).
		want     string
		wantCode int
		wantDocs string
	}{
		{
			name: "find with filter, sort, skip, limit, projection",
			op: func(ctx context.Context, c *mongo.Collection) (any, error) {
				cur, err := c.Find(ctx, bson.D{{Key: "n", Value: bson.D{{Key: "$gte", Value: 10}}}},
					options.Find().SetSort(bson.D{{Key: "n", Value: -1}}).SetSkip(1).SetLimit(2).SetProjection(bson.D{{Key: "name", Value: 1}}))
				if err != nil {
					return nil, err
				}
				var docs []bson.D
				err = cur.All(ctx, &docs)
				return docs, err
			},
			want: `{"v":[{"_id":2,"name":"b"},{"_id":1,"name":"a"}]}`,
		},
		{
			name: "find across several getMores",
			op: func(ctx context.Context, c *mongo.Collection) (any, error) {
				cur, err := c.Find(ctx, bson.D{}, options.Find().SetBatchSize(1).SetProjection(bson.D{{Key: "_id", Value: 1}}))
				if err != nil {
					return nil, err
				}
				var docs []bson.D
				err = cur.All(ctx, &docs)
				return docs, err
			},
			want: `{"v":[{"_id":1},{"_id":2},{"_id":3}]}`,
		},
		{
			name: "insert many",
			op: func(ctx context.Context, c *mongo.Collection) (any, error) {
				r, err := c.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: 4}}, bson.D{{Key: "_id", Value: 5}}})
				if err != nil {
					return nil, err
				}
				return r.InsertedIDs, nil
			},
			want:     `{"v":[4,5]}`,
			wantDocs: `4 5`,
		},
		{
			name: "insert duplicate _id",
			op: func(ctx context.Context, c *mongo.Collection) (any, error) {
				return c.InsertOne(ctx, bson.D{{Key: "_id", Value: 2}})
			},
			wantCode: 11000,
		},
		{
			name: "update many with operators",
			op: func(ctx context.Context, c *mongo.Collection) (any, error) {
				r, err := c.UpdateMany(ctx, bson.D{{Key: "n", Value: bson.D{{Key: "$gt", Value: 10}}}},
					bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}, {Key: "$set", Value: bson.D{{Key: "meta.k", Value: "w"}}}})
				if err != nil {
					return nil, err
				}
				return bson.D{{Key: "matched", Value: r.MatchedCount}, {Key: "modified", Value: r.ModifiedCount}}, nil
			},
			want:     `{"v":{"matched":2,"modified":2}}`,
			wantDocs: `{"_id":2,"name":"b","n":21,"meta":{"k":"w"}} {"_id":3,"name":"c","n":31,"meta":{"k":"w"}}`,
		},
		{
			name: "update one that changes nothing",
			op: func(ctx context.Context, c *mongo.Collection) (any, error) {
				r, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "b"}}}})
				if err != nil {
					return nil, err
				}
				return bson.D{{Key: "matched", Value: r.MatchedCount}, {Key: "modified", Value: r.ModifiedCount}}, nil
			},
			want: `{"v":{"matched":1,"modified":0}}`,
		},
		{
			name: "upsert inserts from the filter's equalities",
			op: func(ctx context.Context, c *mongo.Collection) (any, error) {
				r, err := c.UpdateOne(ctx, bson.D{{Key: "name", Value: "z"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: 5}}}}, options.UpdateOne().SetUpsert(true))
				if err != nil {
					return nil, err
				}
				_, isOID := r.UpsertedID.(bson.ObjectID)
				return bson.D{{Key: "matched", Value: r.MatchedCount}, {Key: "upserted", Value: r.UpsertedCount}, {Key: "oid", Value: isOID}}, nil
			},
			want:     `{"v":{"matched":0,"upserted":1,"oid":true}}`,
			wantDocs: `name:z n:5`,
		},
		{
			name: "replace one",
			op: func(ctx context.Context, c *mongo.Collection) (any, error) {
				r, err := c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "name", Value: "A"}})
				if err != nil {
					return nil, err
				}
				return r.ModifiedCount, nil
			},
			want:     `{"v":1}`,
			wantDocs: `{"_id":1,"name":"A"}`,
		},
		{
			name: "update changing _id fails",
			op: func(ctx context.Context, c *mongo.Collection) (any, error) {
				return c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "_id", Value: 9}}}})
			},
			wantCode: 66,
		},
		{
			name: "delete many",
			op: func(ctx context.Context, c *mongo.Collection) (any, error) {
				r, err := c.DeleteMany(ctx, bson.D{{Key: "n", Value: bson.D{{Key: "$lt", Value: 30}}}})
				if err != nil {
					return nil, err
				}
				return r.DeletedCount, nil
			},
			want:     `{"v":2}`,
			wantDocs: `only 3`,
		},
		{
			name: "delete one",
			op: func(ctx context.Context, c *mongo.Collection) (any, error) {
				r, err := c.DeleteOne(ctx, bson.D{})
				if err != nil {
					return nil, err
				}
				return r.DeletedCount, nil
			},
			want:     `{"v":1}`,
			wantDocs: `2 3`,
		},
		{
			name: "findOneAndUpdate returns the new document",
			op: func(ctx context.Context, c *mongo.Collection) (any, error) {
				var d bson.D
				err := c.FindOneAndUpdate(ctx, bson.D{}, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "top"}}}},
					options.FindOneAndUpdate().SetSort(bson.D{{Key: "n", Value: -1}}).SetReturnDocument(options.After).SetProjection(bson.D{{Key: "name", Value: 1}})).Decode(&d)
				return d, err
			},
			want:     `{"v":{"_id":3,"name":"top"}}`,
			wantDocs: `{"_id":3,"name":"top","n":30,"meta":{"k":"v"}}`,
		},
		{
			name: "findOneAndUpdate returns the old document",
			op: func(ctx context.Context, c *mongo.Collection) (any, error) {
				var d bson.D
				err := c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}).Decode(&d)
				return d, err
			},
			want:     `{"v":{"_id":2,"name":"b","n":20}}`,
			wantDocs: `{"_id":2,"name":"b","n":21}`,
		},
		{
			name: "findOneAndUpdate upsert with no match",
			op: func(ctx context.Context, c *mongo.Collection) (any, error) {
				var d bson.D
				err := c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 7}}, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "new"}}}},
					options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&d)
				return d, err
			},
			want:     `{"v":{"_id":7,"name":"new"}}`,
			wantDocs: `{"_id":7,"name":"new"}`,
		},
		{
			name: "findOneAndDelete",
			op: func(ctx context.Context, c *mongo.Collection) (any, error) {
				var d bson.D
				err := c.FindOneAndDelete(ctx, bson.D{{Key: "name", Value: "b"}}).Decode(&d)
				return d, err
			},
			want:     `{"v":{"_id":2,"name":"b","n":20}}`,
			wantDocs: `1 3`,
		},
		{
			name: "findOneAndReplace of a missing document",
			op: func(ctx context.Context, c *mongo.Collection) (any, error) {
				return nil, c.FindOneAndReplace(ctx, bson.D{{Key: "_id", Value: 99}}, bson.D{{Key: "x", Value: 1}}).Err()
			},
			wantCode: -1, // mongo.ErrNoDocuments
		},
		{
			name: "count documents and estimated count",
			op: func(ctx context.Context, c *mongo.Collection) (any, error) {
				n, err := c.CountDocuments(ctx, bson.D{{Key: "n", Value: bson.D{{Key: "$gte", Value: 20}}}})
				if err != nil {
					return nil, err
				}
				est, err := c.EstimatedDocumentCount(ctx)
				return bson.A{n, est}, err
			},
			want: `{"v":[2,3]}`,
		},
		{
			name: "distinct",
			op: func(ctx context.Context, c *mongo.Collection) (any, error) {
				r := c.Distinct(ctx, "tags", bson.D{})
				var vals []string
				err := r.Decode(&vals)
				return vals, err
			},
			want: `{"v":["x","y"]}`,
		},
		{
			name: "unique index rejects a duplicate insert",
			op: func(ctx context.Context, c *mongo.Collection) (any, error) {
				if _, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "name", Value: 1}}, Options: options.Index().SetUnique(true)}); err != nil {
					return nil, err
				}
				return c.InsertOne(ctx, bson.D{{Key: "_id", Value: 8}, {Key: "name", Value: "a"}})
			},
			wantCode: 11000,
		},
		{
			name: "unique index rejects a duplicate update",
			op: func(ctx context.Context, c *mongo.Collection) (any, error) {
				if _, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "name", Value: 1}}, Options: options.Index().SetUnique(true)}); err != nil {
					return nil, err
				}
				return c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "a"}}}})
			},
			wantCode: 11000,
		},
		{
			name: "unique index creation fails on existing duplicates",
			op: func(ctx context.Context, c *mongo.Collection) (any, error) {
				if _, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: 10}}}}); err != nil {
					return nil, err
				}
				return c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "n", Value: 1}}, Options: options.Index().SetUnique(true)})
			},
			wantCode: 11000,
			wantDocs: `{"_id":2,"name":"b","n":10}`,
		},
		{
			name: "aggregate match and group",
			op: func(ctx context.Context, c *mongo.Collection) (any, error) {
				cur, err := c.Aggregate(ctx, mongo.Pipeline{
					{{Key: "$match", Value: bson.D{{Key: "n", Value: bson.D{{Key: "$gt", Value: 10}}}}}},
					{{Key: "$group", Value: bson.D{{Key: "_id", Value: nil}, {Key: "total", Value: bson.D{{Key: "$sum", Value: "$n"}}}}}},
				})
				if err != nil {
					return nil, err
				}
				var docs []bson.D
				err = cur.All(ctx, &docs)
				return docs, err
			},
			want: `{"v":[{"_id":null,"total":50}]}`,
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			coll := client.Database(fmt.Sprintf("crud%d", i)).Collection("c")
			if _, err := coll.InsertMany(ctx, seed); err != nil {
				t.Fatalf("seed: %v", err)
			}
			got, err := tc.op(ctx, coll)
			switch {
			case tc.wantCode == -1:
				if !errors.Is(err, mongo.ErrNoDocuments) {
					t.Fatalf("err = %v, want ErrNoDocuments", err)
				}
			case tc.wantCode != 0:
				var se mongo.ServerError
				if !errors.As(err, &se) || !se.HasErrorCode(tc.wantCode) {
					t.Fatalf("err = %v, want code %d", err, tc.wantCode)
				}
			case err != nil:
				t.Fatalf("op: %v", err)
			default:
				if s := docString(got); s != tc.want {
					t.Errorf("result = %s\nwant     %s", s, tc.want)
				}
			}
			checkDocs(ctx, t, coll, tc.wantDocs)
		})
	}
}

// checkDocs compares the collection against the expectation of a case: ""
// means the seed unchanged; otherwise a short description checked below.
func checkDocs(ctx context.Context, t *testing.T, c *mongo.Collection, want string) {
	t.Helper()
	seedJSON := docString(seed)
	got := contents(ctx, t, c)
	expect := map[string]string{
		"":           seedJSON,
		"4 5":        seedJSON[:len(seedJSON)-2] + `,{"_id":4},{"_id":5}]}`,
		"only 3":     `{"v":[{"_id":3,"name":"c","n":30,"meta":{"k":"v"}}]}`,
		"2 3":        `{"v":[{"_id":2,"name":"b","n":20},{"_id":3,"name":"c","n":30,"meta":{"k":"v"}}]}`,
		"1 3":        `{"v":[{"_id":1,"name":"a","n":10,"tags":["x","y"]},{"_id":3,"name":"c","n":30,"meta":{"k":"v"}}]}`,
		"name:z n:5": "",
	}
	w, ok := expect[want]
	switch {
	case want == "name:z n:5":
		var d struct {
			Name string `bson:"name"`
			N    int32  `bson:"n"`
		}
		if err := c.FindOne(ctx, bson.D{{Key: "name", Value: "z"}}).Decode(&d); err != nil || d.N != 5 {
			t.Errorf("upserted document: %+v, %v; want name z, n 5", d, err)
		}
		return
	case ok:
	default:
		// one changed document: it must appear in the contents
		if !containsDoc(got, want) {
			t.Errorf("collection = %s\nwant it to contain %s", got, want)
		}
		return
	}
	if got != w {
		t.Errorf("collection = %s\nwant         %s", got, w)
	}
}

func containsDoc(all, doc string) bool {
	for _, part := range splitDocs(doc) {
		if !contains(all, part) {
			return false
		}
	}
	return true
}

func splitDocs(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '{':
			if depth == 0 {
				start = i
			}
			depth++
		case '}':
			depth--
			if depth == 0 {
				out = append(out, s[start:i+1])
			}
		}
	}
	return out
}

func contains(s, sub string) bool { return len(sub) == 0 || indexOf(s, sub) >= 0 }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
