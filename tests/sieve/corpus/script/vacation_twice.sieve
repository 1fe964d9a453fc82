require ["vacation"];
vacation "a";
vacation "b";
