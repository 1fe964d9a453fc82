redirect "<x@example.com>";
