redirect "X.Y@Example.COM";
