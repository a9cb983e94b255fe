package mongotest

import (
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestExpandedEventsShowDDLWithCollectionUUID(t *testing.T) {
	srv := startServer(t)
	client := connect(t, srv)
	ctx := testCtx(t)
	db := client.Database("app")
	plain, err := db.Watch(ctx, mongo.Pipeline{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = plain.Close(ctx) }()
	expanded, err := db.Watch(ctx, mongo.Pipeline{}, options.ChangeStream().SetShowExpandedEvents(true))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = expanded.Close(ctx) }()

	coll := db.Collection("c")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil { // creates c
		t.Fatal(err)
	}
	if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "x", Value: 1}}}); err != nil {
		t.Fatal(err)
	}
	if err := db.RunCommand(ctx, bson.D{{Key: "collMod", Value: "c"}, {Key: "changeStreamPreAndPostImages", Value: bson.D{{Key: "enabled", Value: true}}}}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := coll.Indexes().DropOne(ctx, "x_1"); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}

	for _, op := range []string{"insert", "delete"} {
		if ev := nextRaw(t, plain); ev.Lookup("operationType").StringValue() != op {
			t.Errorf("plain stream: %s, want %s (DDL events only with showExpandedEvents)", ev, op)
		} else if _, err := ev.LookupErr("collectionUUID"); err == nil {
			t.Errorf("plain stream: collectionUUID shown: %s", ev)
		}
	}
	var uuid bson.RawValue
	for _, want := range []struct{ op, desc string }{
		{"create", "idIndex"}, {"insert", ""}, {"createIndexes", "indexes"},
		{"modify", "changeStreamPreAndPostImages"}, {"dropIndexes", "indexes"}, {"delete", ""},
	} {
		ev := nextRaw(t, expanded)
		if got := ev.Lookup("operationType").StringValue(); got != want.op {
			t.Fatalf("expanded stream: %s, want %s", ev, want.op)
		}
		u, err := ev.LookupErr("collectionUUID")
		if err != nil || (uuid.Type != 0 && !u.Equal(uuid)) {
			t.Errorf("%s: collectionUUID %v, want the collection's (%v)", want.op, u, uuid)
		}
		uuid = u
		if want.desc != "" {
			if _, err := ev.LookupErr("operationDescription", want.desc); err != nil {
				t.Errorf("%s: no operationDescription.%s: %s", want.op, want.desc, ev)
			}
		}
	}
}

func nextRaw(t *testing.T, cs *mongo.ChangeStream) bson.Raw {
	t.Helper()
	ctx := testCtx(t)
	if !cs.Next(ctx) {
		t.Fatalf("no next change event: %v", cs.Err())
	}
	return cs.Current
}

func TestImagesOnlyWhenTheCollectionRecordsThem(t *testing.T) {
	srv := startServer(t)
	client := connect(t, srv)
	ctx := testCtx(t)
	db := client.Database("app")
	coll := db.Collection("c")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "n", Value: 0}}); err != nil {
		t.Fatal(err)
	}
	watch := func(full options.FullDocument, pre options.FullDocument) *mongo.ChangeStream {
		cs, err := coll.Watch(ctx, mongo.Pipeline{}, options.ChangeStream().SetFullDocument(full).SetFullDocumentBeforeChange(pre))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cs.Close(ctx) })
		return cs
	}
	inc := func() {
		if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}); err != nil {
			t.Fatal(err)
		}
	}
	available := watch(options.WhenAvailable, options.WhenAvailable)
	required := watch(options.Required, options.Off)
	inc() // images off
	ev := nextRaw(t, available)
	if ev.Lookup("fullDocument").Type != bson.TypeNull || ev.Lookup("fullDocumentBeforeChange").Type != bson.TypeNull {
		t.Errorf("whenAvailable without images: %s, want null images", ev)
	}
	if required.Next(ctx) {
		t.Fatalf("required without images delivered %s", required.Current)
	}
	var ce mongo.CommandError
	if !errors.As(required.Err(), &ce) || ce.Code != 47 {
		t.Errorf("required without images: %v, want NoMatchingDocument (47)", required.Err())
	}
	if err := db.RunCommand(ctx, bson.D{{Key: "collMod", Value: "c"}, {Key: "changeStreamPreAndPostImages", Value: bson.D{{Key: "enabled", Value: true}}}}).Err(); err != nil {
		t.Fatal(err)
	}
	inc() // images on
	ev = nextRaw(t, available)
	if n := ev.Lookup("fullDocument", "n").Int32(); n != 2 {
		t.Errorf("post-image n = %d, want 2", n)
	}
	if n := ev.Lookup("fullDocumentBeforeChange", "n").Int32(); n != 1 {
		t.Errorf("pre-image n = %d, want 1", n)
	}
}
