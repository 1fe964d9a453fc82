require ["imap4flags"];
addflag "\\Flagged";
addflag ["\\Seen", "$Work"];
