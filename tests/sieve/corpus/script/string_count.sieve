require ["variables", "relational", "comparator-i;ascii-numeric", "fileinto"];
if string :count "eq" :comparator "i;ascii-numeric" ["a", "", "b"] "2" { fileinto "Two"; }
