require "fileinto";
if size :over 384 { fileinto "o1"; }
if size :over 385 { fileinto "o2"; }
if size :under 385 { fileinto "u1"; }
if size :under 386 { fileinto "u2"; }
