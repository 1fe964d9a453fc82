require ["fileinto"];
if header :contains ["to","cc"] ["dave","carol"] { fileinto "Team"; }
