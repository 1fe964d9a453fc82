require ["copy"];
redirect :copy "a@example.com";
discard;
