require ["reject"];
reject "a";
reject "b";
