extension API {
    /// Every route of the API, once. The router, the metrics labels, `Allow` headers and the
    /// OpenAPI coverage test (through `assetdedup routes`) read this table; a new route is one
    /// line here, its handler in the file of its concern, and its operation in
    /// `www/api/openapi.json`.
    public static let routes = RouteTable(
        prefix: "/api/v1",
        [
            Route("GET", "/health", .anyone) { api, _, _ in try api.health() },
            // nginx `auth_request` targets: they answer 401/403 themselves, with the right challenge.
            Route("GET", "/auth/admin", .anyone) { api, request, _ in try api.adminCheck(request) },
            Route("GET", "/auth/user", .anyone) { api, request, _ in try api.userCheck(request) },

            // Checks and uploads.
            Route("POST", "/assets/check-by-hash", .userCached) { api, request, _ in try api.checkByHash(request) },
            Route("POST", "/assets/check-by-hash/batch", .userCached) { api, request, _ in
                try api.checkByHashBatch(request)
            },
            Route("POST", "/assets/check-by-hash-batch", .userCached) { api, request, _ in
                try api.legacyCheckBatch(request)
            },
            Route("POST", "/assets/upload", .user) { api, request, _, user in try api.upload(request, user: user) },
            Route("POST", "/assets/similar", .userCached) { api, request, _ in try api.similar(request) },

            // Assets and providers.
            Route("GET", "/assets", .userCached) { api, request, _ in
                try api.reading(request, input: {}) { user, _ in try api.listAssets(request, user: user) }
            },
            Route("GET", "/assets/{id}", .userCached) { api, request, parameters in
                try api.reading(request, input: {}) { user, _ in try api.getAsset(id: parameters["id"], user: user) }
            },
            Route("GET", "/assets/{id}/thumbnail", .userCached) { api, request, parameters in
                try api.thumbnail(id: parameters["id"], request)
            },
            Route("POST", "/assets/{id}/providers", .user) { api, request, parameters, user in
                try api.addProvider(assetID: parameters["id"], request: request, user: user)
            },
            Route("DELETE", "/assets/{id}", .user) { api, _, parameters, user in
                try api.trashAsset(id: parameters["id"], user: user)
            },
            Route("POST", "/assets/{id}/restore", .user) { api, _, parameters, user in
                try api.restoreAsset(id: parameters["id"], user: user)
            },
            Route("GET", "/trash", .user) { api, request, _, user in try api.listTrash(request, user: user) },
            Route("GET", "/trash/{id}", .user) { api, _, parameters, user in
                try api.trashedAsset(id: parameters["id"], user: user)
            },
            Route("DELETE", "/trash/{id}", .user) { api, _, parameters, user in
                try api.purgeAsset(id: parameters["id"], user: user)
            },
            Route("GET", "/near-duplicates", .user) { api, request, _, user in
                try api.myNearDuplicates(request, user: user)
            },
            Route("POST", "/near-duplicates/resolve", .user) { api, request, _, user in
                try api.resolveNearDuplicates(request, user: user)
            },
            Route("GET", "/providers", .user) { api, _, _, user in try api.listProviders(user: user) },

            // Resumable uploads (draft-ietf-httpbis-resumable-upload -15, and interop versions 3
            // to 8 by `Upload-Draft-Interop-Version`: Resumable/DraftInterop.swift).
            Route("OPTIONS", "/uploads", .anyone) { api, request, _ in try api.uploadOptions(request) },
            Route("POST", "/uploads", .user) { api, request, _, user in try api.createUpload(request, user: user) },
            Route("OPTIONS", "/uploads/{uploadId}", .anyone) { api, request, _ in try api.uploadOptions(request) },
            Route("HEAD", "/uploads/{uploadId}", .user) { api, request, parameters, user in
                try api.uploadStatus(id: parameters["uploadId"], request, user: user)
            },
            Route("PATCH", "/uploads/{uploadId}", .user) { api, request, parameters, user in
                try api.appendUpload(id: parameters["uploadId"], request, user: user)
            },
            Route("DELETE", "/uploads/{uploadId}", .user) { api, _, parameters, user in
                try api.cancelUpload(id: parameters["uploadId"], user: user)
            },

            // tus 1.0.0 on the same upload engine (Tus/API+Tus.swift).
            Route("OPTIONS", "/tus", .anyone) { api, _, _ in api.tusOptions() }.answering(with: tusHeaders),
            Route("POST", "/tus", .user) { api, request, _, user in try api.tusCreate(request, user: user) }
                .answering(with: tusHeaders),
            Route("OPTIONS", "/tus/{uploadId}", .anyone) { api, _, _ in api.tusOptions() }.answering(with: tusHeaders),
            Route("HEAD", "/tus/{uploadId}", .user) { api, request, parameters, user in
                try api.tusStatus(id: parameters["uploadId"], request, user: user)
            }.answering(with: tusHeaders),
            Route("GET", "/tus/{uploadId}", .user) { api, request, parameters, user in
                try api.tusResult(id: parameters["uploadId"], request, user: user)
            }.answering(with: tusHeaders),
            Route("PATCH", "/tus/{uploadId}", .user) { api, request, parameters, user in
                try api.tusAppend(id: parameters["uploadId"], request, user: user)
            }.answering(with: tusHeaders),
            Route("DELETE", "/tus/{uploadId}", .user) { api, request, parameters, user in
                try api.tusTerminate(id: parameters["uploadId"], request, user: user)
            }.answering(with: tusHeaders),

            // Admins.
            Route("GET", "/admin/duplicates", .admin) { api, request, _, _ in try api.listDuplicates(request) },
            Route("POST", "/admin/duplicates/{sha256}/review", .admin) { api, request, parameters, user in
                try api.reviewDuplicate(group: parameters["sha256"], request: request, admin: user)
            },
            Route("GET", "/admin/near-duplicates", .admin) { api, request, _, _ in
                try api.listNearDuplicates(request)
            },
            Route("POST", "/admin/near-duplicates/{asset_id}/review", .admin) { api, request, parameters, user in
                try api.reviewNearDuplicates(asset: parameters["asset_id"], request: request, admin: user)
            },
            Route("GET", "/metrics", .admin) { api, _, _, _ in try api.metricsText() },
        ])
}

extension API {
    /// Request headers the API reads besides `Authorization`, `Content-Type` and
    /// `Content-Length` (lower case); the FastCGI glue passes exactly these on.
    public static let optionalRequestHeaders = [
        // The IETF resumable-upload drafts.
        "upload-offset", "upload-complete", "upload-incomplete", "upload-length", "repr-digest",
        "upload-draft-interop-version",
        // tus 1.0.0.
        "tus-resumable", "upload-metadata", "upload-defer-length", "upload-concat", "upload-checksum",
        "x-http-method-override",
        // RFC 7240; the nginx auth_request's original method; where absolute URLs point.
        "prefer", "x-original-method", "host", "x-forwarded-proto",
    ]

    /// On every tus answer, errors included (`Cache-Control: no-store` is on every API answer:
    /// the FastCGI glue writes it).
    static let tusHeaders = [("Tus-Resumable", tusVersion)]
}
