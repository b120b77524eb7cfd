// Mounts Scalar from our own static files, with no outside requests (no fonts, no proxy).
(function () {
  var url = document.getElementById("docs-config").getAttribute("data-schema-url");
  Scalar.createApiReference("#app", {
    url: url,
    withDefaultFonts: false,
    hideClientButton: false,
    documentDownloadType: "both",
    telemetry: false,
    metaData: { title: "Thirdlane portal API" }
  });
})();
