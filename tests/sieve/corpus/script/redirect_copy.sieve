require ["copy"];
redirect :copy "archive@example.com";
