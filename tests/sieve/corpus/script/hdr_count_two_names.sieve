require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :count "eq" :comparator "i;ascii-numeric" ["to", "cc"] "2" { fileinto "Two"; }
