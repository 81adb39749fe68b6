//! `portal.case.v1.FolderService`: proto in, validation, use case, proto out. The
//! stored filter is the section's filter message, protobuf-encoded in base64; lists
//! decode it with [`stored_article_filter`] (and the case list with [`stored_case_filter`]).

use base64::{Engine, engine::general_purpose::STANDARD};
use portal_proto::case::{self as pb, folder_service_server::FolderService};
use prost::Message;
use service_kit::{ApiError, Caller, clock::to_timestamp, error::Violations, paging};
use tonic::{Request, Response, Status};

use super::knowledge::article_filter;
use crate::{
    domain::{
        folders::{Section, check_name},
        knowledge::KnowledgeError,
    },
    folders::Folders,
    storage::folders::{FolderFields, FolderRecord},
};

#[derive(Debug, Clone)]
pub struct FolderApi {
    pub folders: Folders,
}

fn status(error: KnowledgeError) -> Status {
    ApiError::from(error).into()
}

fn section_from_proto(value: i32) -> Option<Section> {
    match pb::ListSection::try_from(value).ok()? {
        pb::ListSection::Cases => Some(Section::Cases),
        pb::ListSection::KnowledgeBase => Some(Section::KnowledgeBase),
        pb::ListSection::Unspecified => None,
    }
}

fn section_to_proto(code: &str) -> pb::ListSection {
    match Section::from_code(code) {
        Some(Section::Cases) => pb::ListSection::Cases,
        Some(Section::KnowledgeBase) => pb::ListSection::KnowledgeBase,
        None => pb::ListSection::Unspecified,
    }
}

fn decode<T: Message + Default>(stored: &str) -> Result<Option<T>, KnowledgeError> {
    if stored.is_empty() {
        return Ok(None);
    }
    let bytes = STANDARD.decode(stored).map_err(|e| KnowledgeError::Corrupt(format!("folder filter: {e}")))?;
    T::decode(bytes.as_slice()).map(Some).map_err(|e| KnowledgeError::Corrupt(format!("folder filter: {e}")))
}

/// The article filter a knowledge-base folder stores (unset when it stores none).
pub fn stored_article_filter(folder: &FolderRecord) -> Result<Option<pb::ArticleFilter>, Status> {
    decode(&folder.filter).map_err(status)
}

/// The case filter a cases folder stores (unset when it stores none).
pub fn stored_case_filter(folder: &FolderRecord) -> Result<Option<pb::CaseFilter>, Status> {
    decode(&folder.filter).map_err(status)
}

fn folder_to_proto(folder: FolderRecord) -> Result<pb::Folder, Status> {
    let filter = match Section::from_code(&folder.section) {
        Some(Section::KnowledgeBase) => stored_article_filter(&folder)?.map(pb::folder::Filter::ArticleFilter),
        Some(Section::Cases) => stored_case_filter(&folder)?.map(pb::folder::Filter::CaseFilter),
        None => None,
    };
    Ok(pb::Folder {
        section: section_to_proto(&folder.section).into(),
        id: folder.id,
        name: folder.name,
        parent_folder_id: folder.parent_id,
        filter,
        owner_user_id: folder.owner_user_id,
        etag: folder.version.to_string(),
        create_time: Some(to_timestamp(folder.created_at)),
        update_time: Some(to_timestamp(folder.updated_at)),
    })
}

/// Checks that the filter suits `section` and encodes it for storage.
fn encode_filter(section: Section, filter: Option<&pb::folder::Filter>, violations: &mut Violations) -> String {
    match (section, filter) {
        (_, None) => String::new(),
        (Section::KnowledgeBase, Some(pb::folder::Filter::ArticleFilter(filter))) => {
            article_filter(Some(filter), "folder.article_filter", violations);
            STANDARD.encode(filter.encode_to_vec())
        }
        (Section::Cases, Some(pb::folder::Filter::CaseFilter(filter))) => STANDARD.encode(filter.encode_to_vec()),
        (Section::KnowledgeBase, Some(_)) => {
            violations.add("folder.case_filter", "a knowledge-base folder takes article_filter");
            String::new()
        }
        (Section::Cases, Some(_)) => {
            violations.add("folder.article_filter", "a cases folder takes case_filter");
            String::new()
        }
    }
}

#[tonic::async_trait]
impl FolderService for FolderApi {
    async fn create_folder(&self, request: Request<pb::CreateFolderRequest>) -> Result<Response<pb::Folder>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let Some(folder) = r.folder else {
            return Err(ApiError::invalid("folder", "is required").into());
        };
        let mut violations = Violations::new();
        violations.check("request_id", crate::domain::knowledge::check_request_id(&r.request_id));
        let name = violations.check("folder.name", check_name(&folder.name));
        let section = section_from_proto(folder.section);
        if section.is_none() {
            violations.add("folder.section", "must be LIST_SECTION_CASES or LIST_SECTION_KNOWLEDGE_BASE");
        }
        let filter = section.map(|s| encode_filter(s, folder.filter.as_ref(), &mut violations)).unwrap_or_default();
        violations.finish()?;
        let (Some(name), Some(section)) = (name, section) else {
            return Err(ApiError::internal("validated folder lacks a field").into());
        };
        let fields = FolderFields { name, parent_id: folder.parent_folder_id, filter };
        let created = self.folders.create(&caller, section, &fields, &r.request_id).await.map_err(status)?;
        Ok(Response::new(folder_to_proto(created)?))
    }

    async fn get_folder(&self, request: Request<pb::GetFolderRequest>) -> Result<Response<pb::Folder>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let id = request.into_inner().id;
        if id.is_empty() {
            return Err(ApiError::invalid("id", "is required").into());
        }
        Ok(Response::new(folder_to_proto(self.folders.folder(&caller, &id).await.map_err(status)?)?))
    }

    async fn list_folders(
        &self,
        request: Request<pb::ListFoldersRequest>,
    ) -> Result<Response<pb::ListFoldersResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let Some(section) = section_from_proto(r.section) else {
            return Err(
                ApiError::invalid("section", "must be LIST_SECTION_CASES or LIST_SECTION_KNOWLEDGE_BASE").into()
            );
        };
        let size = paging::page_size(r.page_size)?;
        let after = paging::text_position(&r.page_token)?;
        let mut rows = self.folders.list(&caller, section, after, size + 1).await.map_err(status)?;
        let next_page_token = if rows.len() as i64 > size {
            rows.truncate(size as usize);
            rows.last().map(|f| paging::text_token(&f.name_key, &f.id)).unwrap_or_default()
        } else {
            String::new()
        };
        let folders = rows.into_iter().map(folder_to_proto).collect::<Result<Vec<_>, _>>()?;
        Ok(Response::new(pb::ListFoldersResponse { folders, next_page_token }))
    }

    async fn update_folder(&self, request: Request<pb::UpdateFolderRequest>) -> Result<Response<pb::Folder>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let Some(folder) = r.folder else {
            return Err(ApiError::invalid("folder", "is required").into());
        };
        if folder.id.is_empty() {
            return Err(ApiError::invalid("folder.id", "is required").into());
        }
        let current = self.folders.folder(&caller, &folder.id).await.map_err(status)?;
        let section = Section::from_code(&current.section)
            .ok_or_else(|| ApiError::internal(format!("folder section '{}'", current.section)))?;
        let paths = r.update_mask.map(|mask| mask.paths).unwrap_or_default();
        let mut violations = Violations::new();
        if paths.is_empty() {
            violations.add("update_mask", "must name at least one of name, parent_folder_id, filter");
        }
        let mut fields = FolderFields {
            name: current.name.clone(),
            parent_id: current.parent_id.clone(),
            filter: current.filter.clone(),
        };
        for path in &paths {
            match path.as_str() {
                "name" => {
                    if let Some(name) = violations.check("folder.name", check_name(&folder.name)) {
                        fields.name = name;
                    }
                }
                "parent_folder_id" => fields.parent_id = folder.parent_folder_id.clone(),
                "filter" => fields.filter = encode_filter(section, folder.filter.as_ref(), &mut violations),
                other => violations
                    .add("update_mask", format!("'{other}' cannot be updated; use name, parent_folder_id, filter")),
            }
        }
        violations.finish()?;
        let updated = self.folders.update(&caller, &current, &folder.etag, &fields).await.map_err(status)?;
        Ok(Response::new(folder_to_proto(updated)?))
    }

    async fn delete_folder(&self, request: Request<pb::DeleteFolderRequest>) -> Result<Response<()>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        if r.id.is_empty() {
            return Err(ApiError::invalid("id", "is required").into());
        }
        self.folders.delete(&caller, &r.id, &r.etag).await.map_err(status)?;
        Ok(Response::new(()))
    }
}
