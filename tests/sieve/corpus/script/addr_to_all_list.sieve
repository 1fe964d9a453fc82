require ["fileinto"];
if address :all :is ["to", "cc"] ["carol@example.net", "nobody@x"] { fileinto "Carol"; }
