redirect "x@example.com";
redirect "x@example.com";
