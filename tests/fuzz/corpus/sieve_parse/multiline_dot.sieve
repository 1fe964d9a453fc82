require ["variables", "fileinto"];
set "t" text:
..dotted
.
;
if string :matches "${t}" ".dotted*" { fileinto "Dot"; }
